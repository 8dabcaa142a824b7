#!/usr/bin/env python3
"""Write a 1.13M-parameter MLP (64-1024-1024-10, ReLU, random weights seeded) with one input and
its onnxruntime output into DIR, in the layout of a committed model (model.onnx, input.json,
expected.json), for `benches/measure.sh DIR`. Not run in CI (the model is 4.5 MB, not committed).

    python3 benches/mlp1m.py /tmp/mlp1m && benches/measure.sh /tmp/mlp1m
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DIMS = [64, 1024, 1024, 10]


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1_000_000)
    nodes, inits, x = [], [], "input"
    params = 0
    for i in range(len(DIMS) - 1):
        w = rng.normal(0, 1 / np.sqrt(DIMS[i]), (DIMS[i], DIMS[i + 1])).astype(np.float32)
        b = rng.normal(0, 0.1, DIMS[i + 1]).astype(np.float32)
        params += w.size + b.size
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"h{i}"], name=f"fc{i}"))
        x = f"h{i}"
        if i < len(DIMS) - 2:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"], name=f"relu{i}"))
            x = f"r{i}"
    g = helper.make_graph(nodes, "mlp1m", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, DIMS[0]])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, DIMS[-1]])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "model.onnx"))
    sample = rng.uniform(0, 1, DIMS[0]).round(4).astype(np.float32)
    import onnxruntime as ort

    y = ort.InferenceSession(os.path.join(out, "model.onnx")).run(None, {"input": sample[None, :]})[0]
    json.dump({"input_data": [sample.tolist()]}, open(os.path.join(out, "input.json"), "w"))
    json.dump({"samples": 1, "outputs": [y.ravel().tolist()]}, open(os.path.join(out, "expected.json"), "w"))
    print(f"{out}: {params:,} parameters")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/mlp1m")
