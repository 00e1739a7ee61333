#!/usr/bin/python3
"""Example labeler (LIFECYCLE_LABELER): labels captured rows from ground truth recorded elsewhere.

In the field, labels arrive later than the readings: a maintenance record says which pump really had a bearing
fault at that time, an annotator reviews the samples. This script stands for that step: --truth is a labelled
CSV (features + label, the layout of samples/vibration/dataset.py) of readings whose true state is known, and
each captured row gets the label of the truth row with the same features (nearest row, within --tolerance per
feature; the CSVs carry 4 decimals). Captured rows without a match are left out and counted. `edgectl demo
--lifecycle` records its simulated sensors' true states this way.

Usage: label_from_truth.py --truth truth.csv captured.csv labelled.csv
Exit codes: 0 written (prints "labelled N of M rows"), 1 bad input or nothing matched, 2 usage.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "samples", "vibration")]
from dataset import read_csv, write_csv  # noqa: E402


def label(captured, truth_x, truth_y, tolerance):
    """(labelled rows, their labels): each captured row with the label of its nearest truth row, when every
    feature is within tolerance."""
    order = np.lexsort(truth_x.T[::-1])
    tx, ty = truth_x[order], truth_y[order]
    keep, labels = [], []
    for i, row in enumerate(captured):
        # The first feature narrows the search; the rest decide.
        lo = np.searchsorted(tx[:, 0], row[0] - tolerance, side="left")
        hi = np.searchsorted(tx[:, 0], row[0] + tolerance, side="right")
        if hi <= lo:
            continue
        d = np.abs(tx[lo:hi] - row).max(axis=1)
        j = int(np.argmin(d))
        if d[j] <= tolerance:
            keep.append(i)
            labels.append(ty[lo + j])
    return captured[keep], np.asarray(labels, dtype=np.int64)


def main():
    parser = argparse.ArgumentParser(description="Label captured rows from recorded ground truth.")
    parser.add_argument("--truth", required=True, help="labelled CSV of readings whose state is known")
    parser.add_argument("--tolerance", type=float, default=2e-4, help="largest difference per feature (default 2e-4)")
    parser.add_argument("captured")
    parser.add_argument("out")
    args = parser.parse_args()
    try:
        tx, ty = read_csv(args.truth)
        if ty is None:
            raise ValueError(f"{args.truth}: no 'label' column")
        cx, _ = read_csv(args.captured)
    except (OSError, ValueError) as e:
        print(f"label_from_truth.py: {e}", file=sys.stderr)
        return 1
    x, y = label(cx, tx, ty, args.tolerance)
    if len(y) == 0:
        print(f"label_from_truth.py: none of the {len(cx)} captured rows is in {args.truth}", file=sys.stderr)
        return 1
    write_csv(args.out, x, y)
    print(f"labelled {len(y)} of {len(cx)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
