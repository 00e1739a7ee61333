#!/usr/bin/python3
"""Trains a candidate vibration classifier, evaluates it against the current model, and writes it only if better.

Trains a scikit-learn model (a small MLP, or logistic regression) on one or more labelled CSVs (the layout of
samples/vibration/dataset.py: rms,...,high_band,label), exports it to ONNX with the sample model's interface
(input "features" float32 [batch,8]; outputs "probabilities" float32 [batch,3] and "label" int64 [batch]; the
feature scaling is folded into the first layer, so the graph is MatMul/Add/Relu/Softmax/ArgMax only), then runs
the candidate AND the current model (an .onnx file) on a held-out CSV and compares accuracy, macro-F1 and
latency. Both models are run by the same evaluator: onnx.reference.ReferenceEvaluator when this onnx has it,
else a small numpy interpreter of the operators these models use (Gemm, MatMul, Add, Relu, Softmax, ArgMax, ...).

The candidate is refused (exit 3, one line on stderr starting with "refused:") when its macro-F1 is not higher
than the current model's by more than --min-improvement, when its accuracy is lower, or when its latency is
more than --max-latency-ratio times the current model's. Nothing is written to --out then, except
evaluation.json. Otherwise --out receives:
    model.onnx        the candidate
    baseline.csv      the drift baseline (edgectl bundle create --baseline): held-out features without labels, or
                      the features of --baseline-data (what the devices see now)
    acceptance.json   acceptance vectors from held-out rows (docs/bundle-format.md#acceptance-vectors):
                      one confidently classified row per class, then those rows as one batch
    evaluation.json   metrics of both models on all held-out rows (the decision) and on each --holdout file alone

Exit codes: 0 written, 3 refused, 1 bad input (file, data), 2 usage.

Usage:
    /usr/bin/python3 deploy-manifests/lifecycle/train.py --train train.csv [--train captured.csv] \\
        --holdout holdout.csv [--holdout field-holdout.csv] --current samples/vibration/vibration.onnx \\
        --out build/candidate
    # then: edgectl bundle create --model build/candidate/model.onnx --baseline build/candidate/baseline.csv \\
    #         --acceptance build/candidate/acceptance.json --name vibration --version 1.1.0 --key ci.key.pem
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "samples", "vibration")]  # dataset.py: beside, or in the repo
from dataset import HEADER, read_csv  # noqa: E402

CLASSES = ["normal", "warning", "fault"]


class Refused(Exception):
    pass


# ---------------------------------------------------------------- evaluation

def _numpy_run(model, x):
    """Runs a small ONNX graph with numpy: the operators the sample and exported models use."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[n] for n in node.input if n]
        op = node.op_type
        if op == "Gemm":
            aa = ins[0].T if a.get("transA", 0) else ins[0]
            bb = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * (aa @ bb)
            if len(ins) > 2:
                out = out + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op == "Add":
            out = ins[0] + ins[1]
        elif op == "Relu":
            out = np.maximum(ins[0], 0)
        elif op == "Sigmoid":
            out = 1 / (1 + np.exp(-ins[0]))
        elif op == "Tanh":
            out = np.tanh(ins[0])
        elif op == "Softmax":
            axis = a.get("axis", -1)
            e = np.exp(ins[0] - ins[0].max(axis=axis, keepdims=True))
            out = e / e.sum(axis=axis, keepdims=True)
        elif op == "ArgMax":
            out = np.argmax(ins[0], axis=a.get("axis", 0)).astype(np.int64)
            if a.get("keepdims", 1):
                out = np.expand_dims(out, a.get("axis", 0))
        elif op == "Identity":
            out = ins[0]
        else:
            raise ValueError(f"the numpy evaluator does not know the operator {op}")
        env[node.output[0]] = out.astype(np.float32) if out.dtype == np.float64 else out
    return [env[o.name] for o in model.graph.output]


class Runner:
    """Runs an ONNX model on features; returns (probabilities, label)."""

    def __init__(self, path_or_model):
        self.model = onnx.load(path_or_model) if isinstance(path_or_model, str) else path_or_model
        names = [o.name for o in self.model.graph.output]
        if "probabilities" not in names or "label" not in names:
            raise ValueError(f"model outputs {names}: expected 'probabilities' and 'label'")
        self._order = names
        try:
            from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
            ref = ReferenceEvaluator(self.model)
            self._run = lambda x: ref.run(None, {"features": x})
            self.engine = "onnx.reference"
        except ImportError:
            self._run = lambda x: _numpy_run(self.model, x)
            self.engine = "numpy"

    def __call__(self, x):
        out = dict(zip(self._order, self._run(np.ascontiguousarray(x, dtype=np.float32))))
        return out["probabilities"], out["label"]

    def latency_ms(self, x, repeats=21):
        """Median wall time of one run over x, in milliseconds."""
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            self(x)
            times.append(time.perf_counter() - t)
        return float(np.median(times) * 1000)


def metrics(y_true, y_pred):
    """accuracy and macro-F1 over the three classes."""
    acc = float(np.mean(y_true == y_pred))
    f1s = []
    for c in range(len(CLASSES)):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        f1s.append(0.0 if tp == 0 else float(2 * tp / (2 * tp + fp + fn)))
    return {"accuracy": round(acc, 4), "f1": round(float(np.mean(f1s)), 4), "f1PerClass": [round(v, 4) for v in f1s]}


def evaluate(runner, x, y):
    _, label = runner(x)
    m = metrics(y, np.asarray(label).reshape(-1))
    m["latencyMs"] = round(runner.latency_ms(x), 4)
    m["rows"] = int(len(y))
    m["engine"] = runner.engine
    return m


# ---------------------------------------------------------------- training and export

def fit(x, y, kind, hidden, seed):
    """Fits a scikit-learn model on standardized features; returns (layers, mean, scale).

    layers: [(W, b, activation)], activation None for the last (logits)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    if set(np.unique(y)) != {0, 1, 2}:
        raise ValueError(f"the training data must hold all three classes (has {sorted(set(np.unique(y).tolist()))})")
    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    if kind == "logreg":
        clf = LogisticRegression(max_iter=2000, random_state=seed).fit(xs, y)
        layers = [(clf.coef_.T, clf.intercept_, None)]
    else:
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", max_iter=1500,
                            random_state=seed).fit(xs, y)
        layers = [(clf.coefs_[0], clf.intercepts_[0], "relu"), (clf.coefs_[1], clf.intercepts_[1], None)]
    return layers, scaler.mean_, scaler.scale_


def export(layers, mean, scale, doc):
    """The ONNX graph of the fitted model, with the standardization folded into the first layer."""
    w0, b0, act0 = layers[0]
    w0f = w0 / scale[:, None]
    b0f = b0 - (mean / scale) @ w0
    layers = [(w0f, b0f, act0)] + layers[1:]
    nodes, inits, cur = [], [], "features"
    for i, (w, b, act) in enumerate(layers):
        inits += [numpy_helper.from_array(np.asarray(w, dtype=np.float32), f"w{i}"),
                  numpy_helper.from_array(np.asarray(b, dtype=np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [cur, f"w{i}"], [f"mm{i}"], name=f"matmul{i}"),
                  helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"z{i}"], name=f"add{i}")]
        cur = f"z{i}"
        if act == "relu":
            nodes.append(helper.make_node("Relu", [cur], [f"h{i}"], name=f"relu{i}"))
            cur = f"h{i}"
    nodes += [helper.make_node("Softmax", [cur], ["probabilities"], axis=1, name="softmax"),
              helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0, name="argmax")]
    graph = helper.make_graph(
        nodes, "vibration_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="edgeagent-lifecycle",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    model.doc_string = doc
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------- outputs

def acceptance(runner, x, y):
    """Acceptance vectors: per class the held-out row the candidate classifies right with the widest margin."""
    x = np.round(x.astype(np.float64), 4).astype(np.float32)  # what the JSON carries is what the device runs
    p, label = runner(x)
    top2 = np.sort(p, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    picked = []
    for c in range(len(CLASSES)):
        ok = np.where((y == c) & (label == c))[0]
        if len(ok):
            picked.append(int(ok[np.argmax(margin[ok])]))
    vectors = []
    groups = [(CLASSES[int(y[i])], [i]) for i in picked] + ([("batch", picked)] if len(picked) > 1 else [])
    for name, rows in groups:
        xi = x[rows]
        pi, li = runner(xi)
        vectors.append({
            "name": name,
            "inputs": [{"name": "features", "shape": list(xi.shape), "datatype": "FP32",
                        "data": [round(float(v), 4) for v in xi.flatten()]}],
            "outputs": [
                {"name": "probabilities", "datatype": "FP32", "shape": list(pi.shape),
                 "data": [round(float(v), 6) for v in np.asarray(pi).flatten()]},
                {"name": "label", "datatype": "INT64", "shape": [len(rows)],
                 "data": [int(v) for v in np.asarray(li).flatten()]},
            ],
        })
    return {"vectors": vectors}


def write_baseline(path, x):
    with open(path, "w") as f:
        f.write(",".join(HEADER) + "\n")
        for row in x:
            f.write(",".join(f"{float(v):.4f}" for v in row) + "\n")


def decide(cand, cur, min_improvement, max_latency_ratio):
    """None when the candidate may be released, else the reason it is refused."""
    if cand["f1"] <= cur["f1"] + min_improvement:
        return (f"candidate macro-F1 {cand['f1']:.4f} is not better than the current model's {cur['f1']:.4f}"
                + (f" by more than {min_improvement}" if min_improvement else "") + " on the held-out set")
    if cand["accuracy"] < cur["accuracy"]:
        return f"candidate accuracy {cand['accuracy']:.4f} is below the current model's {cur['accuracy']:.4f} on the held-out set"
    if max_latency_ratio > 0 and cand["latencyMs"] > max_latency_ratio * max(cur["latencyMs"], 1e-3):
        return (f"candidate latency {cand['latencyMs']:.3f} ms is more than {max_latency_ratio}x the current model's "
                f"{cur['latencyMs']:.3f} ms")
    return None


def main():
    parser = argparse.ArgumentParser(description="Train, evaluate against the current model, and write a candidate if better.")
    parser.add_argument("--train", action="append", required=True, help="labelled training CSV (repeatable)")
    parser.add_argument("--holdout", action="append", required=True,
                        help="labelled held-out CSV, never trained on (repeatable: the decision is on all of them "
                             "together; evaluation.json also scores each file alone)")
    parser.add_argument("--current", required=True, help="the current model (.onnx) to beat")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--kind", choices=["mlp", "logreg"], default="mlp", help="model kind (default mlp: 8-H-3)")
    parser.add_argument("--hidden", type=int, default=16, help="hidden units of the MLP (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--min-improvement", type=float, default=0.0,
                        help="macro-F1 the candidate must gain over the current model, more than (default 0)")
    parser.add_argument("--max-latency-ratio", type=float, default=3.0,
                        help="refuse a candidate slower than this times the current model (default 3; 0 = no check)")
    parser.add_argument("--baseline-data", metavar="CSV",
                        help="features whose distribution becomes the drift baseline (default: the held-out set); "
                             "give what the devices see now, e.g. the captured samples")
    parser.add_argument("--shuffle-labels", action="store_true",
                        help="train on shuffled labels: a deliberately worse candidate, to show the refusal")
    args = parser.parse_args()

    try:
        xs, ys = [], []
        for path in args.train:
            x, y = read_csv(path)
            if y is None:
                raise ValueError(f"{path}: no 'label' column (training data must be labelled)")
            xs.append(x)
            ys.append(y)
        x, y = np.concatenate(xs), np.concatenate(ys)
        held = []
        for path in args.holdout:
            xp, yp = read_csv(path)
            if yp is None:
                raise ValueError(f"{path}: no 'label' column")
            held.append((path, xp, yp))
        xh, yh = np.concatenate([h[1] for h in held]), np.concatenate([h[2] for h in held])
        xb = read_csv(args.baseline_data)[0] if args.baseline_data else None
        if xb is not None and len(xb) == 0:
            raise ValueError(f"{args.baseline_data}: no rows")
        if args.shuffle_labels:
            y = np.random.default_rng(args.seed).permutation(y)
        current = Runner(args.current)
        layers, mean, scale = fit(x, y, args.kind, args.hidden, args.seed)
        model = export(layers, mean, scale,
                       f"Vibration classifier ({args.kind}, trained on {len(y)} rows). Labels: " + ",".join(CLASSES))
        candidate = Runner(model)
    except (OSError, ValueError) as e:
        print(f"train.py: {e}", file=sys.stderr)
        return 1

    cur_m = evaluate(current, xh, yh)
    cand_m = evaluate(candidate, xh, yh)
    reason = decide(cand_m, cur_m, args.min_improvement, args.max_latency_ratio)
    os.makedirs(args.out, exist_ok=True)
    report = {"candidate": cand_m, "current": dict(cur_m, model=os.path.abspath(args.current)),
              "trainRows": int(len(y)), "holdout": [os.path.abspath(h[0]) for h in held],
              "holdouts": [{"file": os.path.abspath(path), "rows": int(len(yp)),
                            "candidate": metrics(yp, np.asarray(candidate(xp)[1]).reshape(-1)),
                            "current": metrics(yp, np.asarray(current(xp)[1]).reshape(-1))}
                           for path, xp, yp in held],
              "released": reason is None, "reason": reason}
    with open(os.path.join(args.out, "evaluation.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    summary = (f"candidate accuracy {cand_m['accuracy']:.4f} f1 {cand_m['f1']:.4f} {cand_m['latencyMs']:.3f} ms; "
               f"current accuracy {cur_m['accuracy']:.4f} f1 {cur_m['f1']:.4f} {cur_m['latencyMs']:.3f} ms")
    if reason:
        print(f"refused: {reason}", file=sys.stderr)
        print(summary)
        return 3
    onnx.save(model, os.path.join(args.out, "model.onnx"))
    write_baseline(os.path.join(args.out, "baseline.csv"), xb if xb is not None else xh)
    with open(os.path.join(args.out, "acceptance.json"), "w") as f:
        json.dump(acceptance(candidate, xh, yh), f, indent=2)
        f.write("\n")
    print(f"written: {os.path.join(args.out, 'model.onnx')} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
