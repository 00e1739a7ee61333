#!/usr/bin/python3
"""Builds mobilenet224.onnx for the serving benchmark: the MobileNet v1 architecture (width 1.0, 224x224) with
random weights, i.e. the compute of a typical image classifier shipped to devices (about 569 million multiply-adds,
4.2 million parameters, 17 MB).

Input  "image"  float32 [1, 3, 224, 224]
Output "logits" float32 [1, 1000]
Conv 3x3/2 (32), then 13 depthwise-separable blocks (depthwise 3x3 + BatchNorm-free Relu, pointwise 1x1 + Relu),
GlobalAveragePool, Flatten, Gemm 1024->1000.

The weights are random with a fixed seed (He-scaled so activations neither vanish nor explode); the model is there to
cost what a real 224x224 model costs, not to classify anything. Where conv224.onnx (1.7 KB, about 0.1 ms) shows the
cost of moving a 224x224 tensor into the agent against almost no compute, this one shows it against real compute.
The benchmark runs this script at start into a temporary directory (Debian's python3-onnx and python3-numpy under
/usr/bin/python3) and skips the case, saying so, when they are missing.

    /usr/bin/python3 bench/models/make_mobilenet224.py OUTPUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (output channels, stride) of each depthwise-separable block, as in MobileNet v1.
BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def build():
    rng = np.random.default_rng(224)
    nodes = []
    inits = []

    def conv(x, out, cin, cout, k, stride, group):
        w = (rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, out + "_w"))
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), out + "_b"))
        pad = k // 2
        nodes.append(helper.make_node("Conv", [x, out + "_w", out + "_b"], [out + "_c"], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group))
        nodes.append(helper.make_node("Relu", [out + "_c"], [out]))
        return out

    x = conv("image", "stem", 3, 32, 3, 2, 1)
    channels = 32
    for i, (cout, stride) in enumerate(BLOCKS):
        x = conv(x, f"dw{i}", channels, channels, 3, stride, channels)
        x = conv(x, f"pw{i}", channels, cout, 1, 1, 1)
        channels = cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], axis=1))
    fc = (rng.standard_normal((1000, channels)) * np.sqrt(1.0 / channels)).astype(np.float32)
    inits.append(numpy_helper.from_array(fc, "fc_w"))
    inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1))
    graph = helper.make_graph(
        nodes,
        "mobilenet224",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        inits,
    )
    model = helper.make_model(graph, producer_name="edgeagent-bench", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_mobilenet224.py OUTPUT.onnx")
    onnx.save(build(), sys.argv[1])
