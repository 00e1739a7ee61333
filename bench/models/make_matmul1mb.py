#!/usr/bin/python3
"""Builds matmul1mb.onnx for the fleet simulation: a model whose file is about 1 MiB, so a bundle of it is ~1 MB.

Input  "features" float32 [1, 512]
Output "scores"   float32 [1, 512]
One MatMul by a 512x512 float weight (1 MiB) plus a bias Add.

The weights are random with a fixed seed (the file is byte-identical on every run). The fleet simulation runs this
script at start into its work directory; it needs Debian's python3-onnx and python3-numpy under /usr/bin/python3.

    /usr/bin/python3 bench/models/make_matmul1mb.py OUTPUT.onnx [SEED]

Another SEED gives other weights (another file, another sha256) of the same size.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(seed=512):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.05, size=(512, 512)).astype(np.float32)
    b = np.zeros(512, dtype=np.float32)
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "matmul1mb",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 512])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgeagent-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_matmul1mb.py OUTPUT.onnx [SEED]")
    onnx.save(build(int(sys.argv[2]) if len(sys.argv) == 3 else 512), sys.argv[1])
