#!/usr/bin/python3
"""Builds samples/vibration/vibration.onnx: a small real vibration classifier.

Input  "features"      float32 [batch, 8]: rms, peak, crest factor, kurtosis, skewness,
                       dominant frequency (kHz), low-band energy, high-band energy.
Output "probabilities" float32 [batch, 3]: normal, warning, fault (softmax).
Output "label"         int64   [batch]   : argmax of probabilities.

The weights are learned here with plain numpy (a 8-16-3 MLP, softmax cross-entropy) on a
synthetic data set whose classes follow simple physics: faults raise energy, peaks and the
high band. Deterministic (fixed seed), so rebuilding gives the same file. Also writes request.json (a
ready-made inference request), expected.json (what numpy computes for it) and acceptance.json
(acceptance vectors for the bundle).

Run with Debian's interpreter (python3-onnx, python3-numpy):
    /usr/bin/python3 samples/vibration/make_model.py
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ["normal", "warning", "fault"]


def synth(rng, n_per_class):
    """Synthetic vibration features per class (normal, warning, fault)."""
    xs, ys = [], []
    centers = [
        # rms, peak, crest, kurt, skew, freq_khz, low_band, high_band
        [0.5, 1.4, 2.8, 3.0, 0.0, 0.12, 0.8, 0.1],
        [1.2, 4.0, 3.4, 4.5, 0.3, 0.35, 0.6, 0.4],
        [2.4, 9.5, 4.2, 8.0, 0.9, 0.90, 0.3, 0.9],
    ]
    spread = [0.15, 0.6, 0.3, 0.7, 0.15, 0.08, 0.08, 0.08]
    for label, c in enumerate(centers):
        x = rng.normal(c, spread, size=(n_per_class, 8))
        xs.append(x)
        ys.append(np.full(n_per_class, label))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def train(x, y, hidden=16, epochs=400, lr=0.05, seed=7):
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 0.3, size=(8, hidden)).astype(np.float32)
    b1 = np.zeros(hidden, dtype=np.float32)
    w2 = rng.normal(0, 0.3, size=(hidden, 3)).astype(np.float32)
    b2 = np.zeros(3, dtype=np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    for _ in range(epochs):
        h = np.maximum(x @ w1 + b1, 0)
        logits = h @ w2 + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / len(x)
        gw2 = h.T @ g
        gb2 = g.sum(axis=0)
        gh = (g @ w2.T) * (h > 0)
        gw1 = x.T @ gh
        gb1 = gh.sum(axis=0)
        w1 -= lr * gw1
        b1 -= lr * gb1
        w2 -= lr * gw2
        b2 -= lr * gb2
    return w1, b1, w2, b2


def forward(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0)
    logits = h @ w2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def build(w1, b1, w2, b2):
    nodes = [
        helper.make_node("Gemm", ["features", "w1", "b1"], ["h0"], name="dense1"),
        helper.make_node("Relu", ["h0"], ["h1"], name="relu1"),
        helper.make_node("Gemm", ["h1", "w2", "b2"], ["logits"], name="dense2"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0, name="argmax"),
    ]
    graph = helper.make_graph(
        nodes,
        "vibration_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 8])],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
        ],
        initializer=[
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(b1, "b1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(b2, "b2"),
        ],
    )
    model = helper.make_model(
        graph,
        producer_name="edgeagent-samples",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 7
    model.doc_string = "Vibration classifier: normal / warning / fault. Labels: " + ",".join(CLASSES)
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description="Build the sample vibration classifier.")
    parser.add_argument("--out", default=HERE, help="output folder (default: next to this script)")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(42)
    x, y = synth(rng, 400)
    w1, b1, w2, b2 = train(x, y)
    xt, yt = synth(np.random.default_rng(43), 100)
    acc = float((forward(xt, w1, b1, w2, b2).argmax(axis=1) == yt).mean())
    model = build(w1, b1, w2, b2)
    onnx.save(model, os.path.join(out, "vibration.onnx"))

    # A ready-made Open Inference Protocol request: one sample per class.
    sample = np.array([[0.5, 1.4, 2.8, 3.0, 0.0, 0.12, 0.8, 0.1],
                       [1.2, 4.0, 3.4, 4.5, 0.3, 0.35, 0.6, 0.4],
                       [2.4, 9.5, 4.2, 8.0, 0.9, 0.90, 0.3, 0.9]], dtype=np.float32)
    request = {"inputs": [{"name": "features", "shape": [3, 8], "datatype": "FP32",
                           "data": [round(float(v), 4) for v in sample.flatten()]}]}
    with open(os.path.join(out, "request.json"), "w") as f:
        json.dump(request, f, indent=2)
        f.write("\n")
    expected = forward(sample, w1, b1, w2, b2)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"probabilities": [round(float(v), 6) for v in expected.flatten()],
                   "label": [int(v) for v in expected.argmax(axis=1)],
                   "holdoutAccuracy": round(acc, 4)}, f, indent=2)
        f.write("\n")

    # Acceptance vectors for `edgectl bundle create --acceptance` (docs/bundle-format.md#acceptance-vectors):
    # one sample per class, then the three together as a batch; expected values from the numpy forward pass.
    vectors = []
    for name, rows in [("normal", [0]), ("warning", [1]), ("fault", [2]), ("batch", [0, 1, 2])]:
        x = sample[rows]
        p = forward(x, w1, b1, w2, b2)
        vectors.append({
            "name": name,
            "inputs": [{"name": "features", "shape": list(x.shape), "datatype": "FP32",
                        "data": [round(float(v), 4) for v in x.flatten()]}],
            "outputs": [
                {"name": "probabilities", "datatype": "FP32", "shape": list(p.shape),
                 "data": [round(float(v), 6) for v in p.flatten()]},
                {"name": "label", "datatype": "INT64", "shape": [len(rows)],
                 "data": [int(v) for v in p.argmax(axis=1)]},
            ],
        })
    with open(os.path.join(out, "acceptance.json"), "w") as f:
        json.dump({"vectors": vectors}, f, indent=2)
        f.write("\n")
    print(f"wrote vibration.onnx (hold-out accuracy {acc:.3f})")


if __name__ == "__main__":
    main()
