#!/usr/bin/python3
"""Generates a labelled vibration data set (CSV) for training and evaluating the sample classifier.

The physics are the ones make_model.py trains vibration.onnx on (same class centres and spreads): faults
raise energy, peaks and the high band. With --shift the rows get the loosened-mounting shift that
`edgectl demo` applies to its sensors (src/EdgeAgent.Cli/Demo/SensorSimulator.cs): rms*1.4+0.2,
freq_khz+0.15, high_band+0.12 (features 0, 5 and 7); the classes stay the same.

Columns: rms,peak,crest,kurtosis,skewness,freq_khz,low_band,high_band,label (label 0 normal, 1 warning,
2 fault). Deterministic for a given --seed.

Usage:
    /usr/bin/python3 samples/vibration/dataset.py --out train.csv --rows 1200 --seed 1
    /usr/bin/python3 samples/vibration/dataset.py --out shifted.csv --rows 600 --seed 2 --shift
    /usr/bin/python3 samples/vibration/dataset.py --out field.csv --mix 0.8,0.15,0.05 --shift
"""
import argparse
import sys

import numpy as np

HEADER = ["rms", "peak", "crest", "kurtosis", "skewness", "freq_khz", "low_band", "high_band"]
CENTERS = np.array([
    # rms, peak, crest, kurt, skew, freq_khz, low_band, high_band (as make_model.py)
    [0.5, 1.4, 2.8, 3.0, 0.0, 0.12, 0.8, 0.1],
    [1.2, 4.0, 3.4, 4.5, 0.3, 0.35, 0.6, 0.4],
    [2.4, 9.5, 4.2, 8.0, 0.9, 0.90, 0.3, 0.9],
])
SPREAD = np.array([0.15, 0.6, 0.3, 0.7, 0.15, 0.08, 0.08, 0.08])


def shift(x):
    """The loosened-mounting shift of `edgectl demo` (in place, returns x)."""
    x[:, 0] = x[:, 0] * 1.4 + 0.2
    x[:, 5] += 0.15
    x[:, 7] += 0.12
    return x


def generate(rows, seed, shifted=False, mix=(1 / 3, 1 / 3, 1 / 3)):
    """rows samples: features float32 [rows, 8] and labels int64 [rows], classes drawn with probabilities mix."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=rows, p=np.asarray(mix) / np.sum(mix))
    x = CENTERS[y] + rng.normal(size=(rows, 8)) * SPREAD
    if shifted:
        shift(x)
    return x.astype(np.float32), y.astype(np.int64)


def write_csv(path, x, y=None, header=HEADER):
    """CSV with a header row; y (when given) becomes the last column, 'label'."""
    with (sys.stdout if path == "-" else open(path, "w")) as f:
        f.write(",".join(header + (["label"] if y is not None else [])) + "\n")
        for i, row in enumerate(x):
            cells = [f"{float(v):.4f}" for v in row]
            if y is not None:
                cells.append(str(int(y[i])))
            f.write(",".join(cells) + "\n")


def read_csv(path):
    """(features float32 [rows, 8], labels int64 [rows] or None) from a CSV with a header row."""
    with open(path) as f:
        header = f.readline().strip().split(",")
        missing = [c for c in HEADER if c not in header]
        if missing:
            raise ValueError(f"{path}: header lacks {','.join(missing)}")
        rows = [line.strip().split(",") for line in f if line.strip()]
    cols = [header.index(c) for c in HEADER]
    x = np.array([[float(r[c]) for c in cols] for r in rows], dtype=np.float32).reshape(-1, 8)
    y = None
    if "label" in header:
        li = header.index("label")
        y = np.array([int(float(r[li])) for r in rows], dtype=np.int64)
    return x, y


def main():
    parser = argparse.ArgumentParser(description="Generate a labelled synthetic vibration data set (CSV).")
    parser.add_argument("--out", default="-", help="output CSV (default: stdout)")
    parser.add_argument("--rows", type=int, default=1200, help="number of samples (default 1200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--shift", action="store_true", help="apply the loosened-mounting shift of edgectl demo")
    parser.add_argument("--mix", default="1,1,1",
                        help="relative class frequencies normal,warning,fault (default 1,1,1; the demo's field mix is 0.8,0.15,0.05)")
    args = parser.parse_args()
    try:
        mix = [float(v) for v in args.mix.split(",")]
    except ValueError:
        parser.error("--mix: three numbers, comma-separated")
    if len(mix) != 3 or min(mix) < 0 or sum(mix) <= 0:
        parser.error("--mix: three non-negative numbers, not all zero")
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    x, y = generate(args.rows, args.seed, args.shift, mix)
    write_csv(args.out, x, y)


if __name__ == "__main__":
    main()
