#!/usr/bin/python3
"""Builds conv224.onnx for the serving benchmark: a small image classifier with a 1x3x224x224 float input.

Input  "image"  float32 [1, 3, 224, 224]
Output "logits" float32 [1, 10]
Conv 3->8 (3x3, stride 2, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm 8->10.

The weights are random with a fixed seed, so the output is deterministic. The model is there to make the tensor big,
not to classify anything. The benchmark runs this script at start into a temporary directory (it needs Debian's
python3-onnx and python3-numpy under /usr/bin/python3) and skips the 224x224 case, saying so, when they are missing.

    /usr/bin/python3 bench/models/make_conv224.py OUTPUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build():
    rng = np.random.default_rng(224)
    w = rng.normal(0, 0.2, size=(8, 3, 3, 3)).astype(np.float32)
    b = np.zeros(8, dtype=np.float32)
    fc_w = rng.normal(0, 0.3, size=(10, 8)).astype(np.float32)
    fc_b = np.zeros(10, dtype=np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "conv224",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [
            numpy_helper.from_array(w, "conv_w"),
            numpy_helper.from_array(b, "conv_b"),
            numpy_helper.from_array(fc_w, "fc_w"),
            numpy_helper.from_array(fc_b, "fc_b"),
        ],
    )
    model = helper.make_model(graph, producer_name="edgeagent-bench", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_conv224.py OUTPUT.onnx")
    onnx.save(build(), sys.argv[1])
