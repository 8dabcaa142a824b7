#!/usr/bin/env python3
"""Build zkinfer's committed test models.

For every model this writes models/<name>/model.onnx, input.json (EZKL format: one flat list per
model input, holding several samples back to back) and expected.json (onnxruntime's outputs for
the same samples, one flat list per output). Run from the repository root:

    pip install onnx onnxruntime scikit-learn numpy
    python3 models/generate.py                  # every model
    python3 models/generate.py digits_softmax   # only the named ones

The Rust tests only read the files this writes, so `cargo test` needs no Python.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(20261121)
F = TensorProto.FLOAT


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def save(name, graph, opset, samples, extra=None, reference=False):
    """samples: list (per model input) of arrays shaped [k, *input_shape]. `reference`: expected
    outputs from onnx's reference evaluator instead of onnxruntime (for forms onnxruntime
    refuses, e.g. batch-major recurrent layers)."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="zkinfer-tests")
    model.ir_version = min(model.ir_version, 8)
    if all(o.type.tensor_type.HasField("shape") for o in graph.output):
        onnx.checker.check_model(model, full_check=True)
    save_model(name, model, samples, extra, reference)


def as_tensor(r):
    """An onnxruntime output as an array: ZipMap's list of {class: probability} maps becomes the
    probability rows in class order (zkinfer drops ZipMap and keeps the tensor)."""
    if isinstance(r, list) and r and isinstance(r[0], dict):
        return np.asarray([[m[k] for k in sorted(m)] for m in r], dtype=np.float64)
    return np.asarray(r, dtype=np.float64)


class Reference:
    """onnx's reference evaluator behind onnxruntime's `InferenceSession` interface."""

    def __init__(self, model):
        from onnx.reference import ReferenceEvaluator

        self.ev = ReferenceEvaluator(model)
        init = {i.name for i in model.graph.initializer}
        self.inputs = [i for i in model.graph.input if i.name not in init]

    def input_info(self):
        return [(i.name, [d.dim_value or 1 for d in i.type.tensor_type.shape.dim]) for i in self.inputs]

    def run(self, _, feed):
        return self.ev.run(None, feed)


def save_model(name, model, samples, extra=None, reference=False, expected_from=None):
    """`expected_from`: a model whose onnxruntime outputs are the expected ones (for models at
    opsets onnxruntime has no kernels for: the same graph written in the modern form)."""
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    if expected_from is not None:
        sess = ort.InferenceSession(expected_from.SerializeToString(), providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        shapes = [[d if isinstance(d, int) else 1 for d in i.shape] for i in sess.get_inputs()]
    elif reference:
        sess = Reference(model)
        names = [n for n, _ in sess.input_info()]
        shapes = [sh for _, sh in sess.input_info()]
    else:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        shapes = [[d if isinstance(d, int) else 1 for d in i.shape] for i in sess.get_inputs()]
    k = samples[0].shape[0]
    samples = [f32(x).reshape([k] + sh) for x, sh in zip(samples, shapes)]
    outs = None
    # Integer and boolean model inputs are fed in their own types (input.json holds numbers).
    np_types = {"tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}
    types = [np_types.get(i.type, np.float32) for i in sess.get_inputs()] if hasattr(sess, "get_inputs") else [np.float32] * len(names)
    for s in range(k):
        feed = {n: x[s].astype(t) for n, x, t in zip(names, samples, types)}
        res = [as_tensor(r) for r in sess.run(None, feed)]
        if outs is None:
            outs = [[] for _ in res]
        for i, r in enumerate(res):
            outs[i].extend(r.reshape(-1).tolist())
    with open(os.path.join(d, "input.json"), "w") as fh:
        json.dump({"input_data": [f32(x).reshape(-1).astype(float).round(6).tolist() for x in samples]}, fh)
    exp = {"samples": k, "outputs": outs, "output_shapes": [list(o.shape) for o in res]}
    with open(os.path.join(d, "expected.json"), "w") as fh:
        json.dump(exp, fh)
    if extra:
        for fname, obj in extra.items():
            with open(os.path.join(d, fname), "w") as fh:
                json.dump(obj, fh)
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    print(f"{name}: opsets {opsets}, {k} samples, outputs {[list(o.shape) for o in res]}")


def vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)


def rnd(*shape, scale=1.0):
    return f32(RNG.normal(0, scale, size=shape))


# ---------------------------------------------------------------- real models
def digits_mlp():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=600, random_state=0).fit(xtr, ytr)
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    g = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
            helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
            helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"], name="fc2", transB=1),
        ],
        "digits_mlp",
        [vi("input", [1, 64])],
        [vi("logits", [1, 10])],
        [init("w1", f32(w1.T)), init("b1", f32(b1)), init("w2", f32(w2.T)), init("b2", f32(b2))],
    )
    test = {"input_data": [f32(xte).reshape(-1).astype(float).round(6).tolist()], "labels": yte.tolist()}
    save("digits_mlp", g, 13, [f32(xte[:16])], extra={"test_split.json": test})


def mlp_softmax_graph(name, clf):
    """Gemm-Relu-Gemm-Softmax over [1, 64] digit features from a fitted one-hidden-layer
    MLPClassifier: class probabilities for the digits tournament."""
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    return helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
            helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
            helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"], name="fc2", transB=1),
            helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
        ],
        name,
        [vi("input", [1, 64])],
        [vi("probs", [1, 10])],
        [init("w1", f32(w1.T)), init("b1", f32(b1)), init("w2", f32(w2.T)), init("b2", f32(b2))],
    )


def digits_softmax():
    """The digits MLP with a Softmax head: non-negative class probabilities, the kind of output a
    prediction-market trade needs (K = 10 outcomes). Same training as digits_mlp. Written to
    models/market/ so the tests over every committed model (models/*/expected.json) skip it; its
    fixture is solidity/fixtures_prediction.sh."""
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=600, random_state=0).fit(xtr, ytr)
    save("market/digits_softmax", mlp_softmax_graph("digits_softmax", clf), 13, [f32(xte[:16])], extra={"labels.json": {"labels": yte[:16].tolist()}})


def digits_tournament():
    """Two more models for the digits tournament of examples/prediction_market.rs, beside
    digits_softmax: a multinomial logistic regression and a narrower MLP (16 ReLU units,
    another seed), both with a Softmax head over the same [1, 64] features, so three
    operators trade three different committed models on one round."""
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    labels = {"labels.json": {"labels": yte[:16].tolist()}}
    lr = LogisticRegression(max_iter=2000, C=0.5).fit(xtr, ytr)
    g = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w", "b"], ["logits"], name="linear", transB=1),
            helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
        ],
        "digits_logreg",
        [vi("input", [1, 64])],
        [vi("probs", [1, 10])],
        [init("w", f32(lr.coef_)), init("b", f32(lr.intercept_))],
    )
    save("market/digits_logreg", g, 13, [f32(xte[:16])], extra=labels)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=800, random_state=7).fit(xtr, ytr)
    save("market/digits_mlp16", mlp_softmax_graph("digits_mlp16", clf), 13, [f32(xte[:16])], extra=labels)


def conv_features(x, w, b):
    """numpy reference of Conv(3x3, pad 1) + Relu + MaxPool 2x2 for the digits CNN."""
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], 8, 8))
    for i in range(8):
        for j in range(8):
            out[:, :, i, j] = np.einsum("nchw,mchw->nm", xp[:, :, i:i + 3, j:j + 3], w) + b
    out = np.maximum(out, 0)
    return out.reshape(n, w.shape[0], 4, 2, 4, 2).max(axis=(3, 5)).reshape(n, -1)


def digits_cnn():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    w = rnd(4, 1, 3, 3, scale=0.5)
    b = rnd(4, scale=0.1)
    clf = LogisticRegression(max_iter=2000).fit(conv_features(xtr, w, b), ytr)
    g = helper.make_graph(
        [
            helper.make_node("Conv", ["input", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"], name="relu"),
            helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
            helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1),
        ],
        "digits_cnn",
        [vi("input", [1, 1, 8, 8])],
        [vi("logits", [1, 10])],
        [init("w", w), init("b", b), init("wf", f32(clf.coef_)), init("bf", f32(clf.intercept_))],
    )
    save("digits_cnn", g, 13, [f32(xte[:12])])


def logreg_sigmoid():
    x, y = load_breast_cancer(return_X_y=True)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    sc = StandardScaler().fit(xtr)
    clf = LogisticRegression(max_iter=2000).fit(sc.transform(xtr), ytr)
    g = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w", "b"], ["z"], name="linear", transB=1),
            helper.make_node("Sigmoid", ["z"], ["prob"], name="sigmoid"),
        ],
        "logreg",
        [vi("input", [1, 30])],
        [vi("prob", [1, 1])],
        [init("w", f32(clf.coef_)), init("b", f32(clf.intercept_))],
    )
    save("logreg_sigmoid", g, 11, [f32(sc.transform(xte[:16]))])


def convnet_bn():
    x, y = load_digits(return_X_y=True)
    x = f32((x / 16.0).reshape(-1, 1, 8, 8))
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=0)
    w1, b1 = rnd(6, 1, 3, 3, scale=0.5), rnd(6, scale=0.1)
    w2, b2 = rnd(8, 6, 3, 3, scale=0.3), rnd(8, scale=0.1)

    def bn_params(c, shift):
        return (f32(RNG.uniform(0.5, 1.5, c)), f32(RNG.normal(0, 0.1, c)), f32(shift + RNG.normal(0, 0.1, c)), f32(RNG.uniform(0.5, 2.0, c)))

    s1, o1, m1, v1 = bn_params(6, 0.2)
    s2, o2, m2, v2 = bn_params(8, 0.3)
    body = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c1", "s1", "o1", "m1", "v1"], ["n1"], name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c2", "s2", "o2", "m2", "v2"], ["n2"], name="bn2"),
        helper.make_node("Relu", ["n2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
    ]
    inits = [init(n, a) for n, a in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("s1", s1), ("o1", o1), ("m1", m1), ("v1", v1), ("s2", s2), ("o2", o2), ("m2", m2), ("v2", v2)]]
    feat_graph = helper.make_graph(body, "feat", [vi("input", [None, 1, 8, 8])], [vi("f", [None, 8])], inits)
    fm = helper.make_model(feat_graph, opset_imports=[helper.make_opsetid("", 12)])
    fm.ir_version = 7
    sess = ort.InferenceSession(fm.SerializeToString(), providers=["CPUExecutionProvider"])
    clf = LogisticRegression(max_iter=3000).fit(sess.run(None, {"input": xtr})[0], ytr)
    body.append(helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], name="fc", transB=1))
    inits += [init("wf", f32(clf.coef_)), init("bf", f32(clf.intercept_))]
    g = helper.make_graph(body, "convnet_bn", [vi("input", [1, 1, 8, 8])], [vi("logits", [1, 10])], inits)
    save("convnet_bn", g, 12, [xte[:12]])


def lenet():
    def he(*shape):
        fan_in = int(np.prod(shape[1:]))
        return rnd(*shape, scale=np.sqrt(2.0 / fan_in))

    x, _ = load_digits(return_X_y=True)
    imgs = (x[:8] / 16.0).reshape(-1, 8, 8)
    big = f32(np.kron(imgs, np.ones((1, 3, 3)))[:, None, :, :])  # 24x24
    big = np.pad(big, ((0, 0), (0, 0), (2, 2), (2, 2)))  # 28x28
    inits = [
        init("w1", he(6, 1, 5, 5)), init("b1", rnd(6, scale=0.05)),
        init("w2", he(16, 6, 5, 5)), init("b2", rnd(16, scale=0.05)),
        init("w3", he(120, 400)), init("b3", rnd(120, scale=0.05)),
        init("w4", he(84, 120)), init("b4", rnd(84, scale=0.05)),
        init("w5", he(10, 84)), init("b5", rnd(10, scale=0.05)),
    ]
    g = helper.make_graph(
        [
            helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
            helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
            helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[5, 5]),
            helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
            helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p2"], ["f"], name="flatten"),
            helper.make_node("Gemm", ["f", "w3", "b3"], ["h3"], name="fc1", transB=1),
            helper.make_node("Relu", ["h3"], ["r3"], name="relu3"),
            helper.make_node("Gemm", ["r3", "w4", "b4"], ["h4"], name="fc2", transB=1),
            helper.make_node("Relu", ["h4"], ["r4"], name="relu4"),
            helper.make_node("Gemm", ["r4", "w5", "b5"], ["logits"], name="fc3", transB=1),
        ],
        "lenet",
        [vi("input", [1, 1, 28, 28])],
        [vi("logits", [1, 10])],
        inits,
    )
    save("lenet", g, 13, [big[:4]])


# ---------------------------------------------------------------- one model per op family
def ops_elementwise():
    n = helper.make_node
    g = helper.make_graph(
        [
            n("Add", ["x", "c1"], ["a"], name="add_const"),
            n("Mul", ["a", "c2"], ["m"], name="mul_const"),
            n("Div", ["x", "c3"], ["d"], name="div_const"),
            n("Sub", ["m", "d"], ["out_arith"], name="sub"),
            n("Abs", ["x"], ["ax"], name="abs"),
            n("Add", ["ax", "one"], ["den"], name="add_one"),
            n("Div", ["y", "den"], ["out_div"], name="div_var"),
            n("Mul", ["x", "y"], ["out_mul"], name="mul_var"),
            n("Max", ["x", "y", "c4"], ["out_max"], name="max3"),
            n("Min", ["x", "y"], ["out_min"], name="min2"),
            n("Sum", ["x", "y", "c1"], ["out_sum"], name="sum3"),
            n("Neg", ["y"], ["out_neg"], name="neg"),
        ],
        "ops_elementwise",
        [vi("x", [1, 4, 6]), vi("y", [1, 1, 6])],
        [vi(o, None) for o in ["out_arith", "out_div", "out_mul", "out_max", "out_min", "out_sum", "out_neg"]],
        [init("c1", rnd(4, 1)), init("c2", rnd(6)), init("c3", f32([2.5])), init("c4", f32(0.3)), init("one", f32([1.0]))],
    )
    save("ops_elementwise", g, 13, [rnd(6, 1, 4, 6), rnd(6, 1, 1, 6)])


def ops_activations():
    n = helper.make_node
    acts = [
        ("Relu", {}), ("LeakyRelu", {"alpha": 0.1}), ("Elu", {"alpha": 0.8}), ("Selu", {}), ("Softplus", {}),
        ("Sigmoid", {}), ("Tanh", {}), ("Exp", {}), ("Erf", {}), ("Gelu", {}), ("Gelu", {"approximate": "tanh"}),
    ]
    nodes, outs = [], []
    for i, (op, attrs) in enumerate(acts):
        nodes.append(n(op, ["x"], [f"out_{i}_{op.lower()}"], name=f"{op.lower()}_{i}", **attrs))
        outs.append(f"out_{i}_{op.lower()}")
    nodes += [
        n("PRelu", ["x", "slope"], ["out_prelu"], name="prelu"),
        n("Abs", ["x"], ["ax"], name="abs"),
        n("Sqrt", ["ax"], ["out_sqrt"], name="sqrt"),
        n("Pow", ["x", "two"], ["out_pow2"], name="pow2"),
        n("Pow", ["ax", "half"], ["out_pow_half"], name="pow_half"),
        n("Clip", ["x", "lo", "hi"], ["out_clip"], name="clip"),
    ]
    outs += ["out_prelu", "out_sqrt", "out_pow2", "out_pow_half", "out_clip"]
    g = helper.make_graph(
        nodes, "ops_activations", [vi("x", [1, 16])], [vi(o, None) for o in outs],
        [init("slope", f32(RNG.uniform(0, 0.5, 16))), init("two", f32(2.0)), init("half", f32(0.5)), init("lo", f32(-1.0)), init("hi", f32(1.5))],
    )
    save("ops_activations", g, 20, [f32(RNG.uniform(-3, 3, (6, 1, 16)))])


def ops_softmax():
    n = helper.make_node
    g = helper.make_graph(
        [n("Softmax", ["x"], ["sm"], name="softmax", axis=-1), n("LogSoftmax", ["x"], ["lsm"], name="logsoftmax", axis=1),
         n("Softmax", ["x"], ["sm0"], name="softmax_axis0", axis=0)],
        "ops_softmax", [vi("x", [2, 5])], [vi("sm", None), vi("lsm", None), vi("sm0", None)],
    )
    save("ops_softmax", g, 13, [rnd(6, 2, 5)])
    g = helper.make_graph(
        [n("Softmax", ["x"], ["sm"], name="softmax_legacy", axis=1)],
        "ops_softmax_legacy", [vi("x", [2, 3, 4])], [vi("sm", None)],
    )
    save("ops_softmax_legacy", g, 11, [rnd(4, 2, 3, 4)])


def ops_conv():
    n = helper.make_node
    g = helper.make_graph(
        [
            n("Conv", ["x1", "w1", "b1"], ["conv1d"], name="conv1d", strides=[2], pads=[1, 2]),
            n("Conv", ["x2", "w2"], ["dw"], name="depthwise_dilated", group=4, dilations=[2, 2], pads=[2, 1, 2, 2]),
            n("Conv", ["x2", "w2"], ["same"], name="depthwise_same_lower", group=4, strides=[2, 2], auto_pad="SAME_LOWER"),
            n("Conv", ["x2", "w2b", "b2b"], ["grouped"], name="grouped_strided", group=2, strides=[2, 1], pads=[0, 1, 1, 0]),
            n("Conv", ["x3", "w3", "b3"], ["conv3d"], name="conv3d", pads=[1, 1, 1, 1, 1, 1], strides=[2, 2, 2]),
            n("ConvTranspose", ["x1", "wt1", "bt1"], ["convt1d"], name="convtranspose1d", strides=[2], output_padding=[1], pads=[1, 0]),
            n("ConvTranspose", ["x2", "wt2"], ["convt2d"], name="convtranspose2d", strides=[2, 2], group=2),
        ],
        "ops_conv",
        [vi("x1", [1, 2, 10]), vi("x2", [1, 4, 7, 7]), vi("x3", [1, 2, 4, 4, 4])],
        [vi(o, None) for o in ["conv1d", "dw", "same", "grouped", "conv3d", "convt1d", "convt2d"]],
        [init("w1", rnd(3, 2, 3, scale=0.5)), init("b1", rnd(3, scale=0.1)), init("w2", rnd(4, 1, 3, 3, scale=0.5)),
         init("w2b", rnd(6, 2, 2, 3, scale=0.5)), init("b2b", rnd(6, scale=0.1)),
         init("w3", rnd(3, 2, 3, 3, 3, scale=0.3)), init("b3", rnd(3, scale=0.1)),
         init("wt1", rnd(2, 3, 3, scale=0.5)), init("bt1", rnd(3, scale=0.1)), init("wt2", rnd(4, 1, 3, 3, scale=0.5))],
    )
    save("ops_conv", g, 13, [rnd(4, 1, 2, 10), rnd(4, 1, 4, 7, 7), rnd(4, 1, 2, 4, 4, 4)])


def ops_pool():
    n = helper.make_node
    g = helper.make_graph(
        [
            n("MaxPool", ["x1"], ["mp1"], name="maxpool1d", kernel_shape=[3], strides=[2]),
            n("MaxPool", ["x2"], ["mp2"], name="maxpool2d_ceil", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0], ceil_mode=1),
            n("MaxPool", ["x3"], ["mp3"], name="maxpool3d", kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
            n("AveragePool", ["x2"], ["ap_inc"], name="avgpool_include_pad", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
            n("AveragePool", ["x2"], ["ap_exc"], name="avgpool_exclude_pad", kernel_shape=[2, 3], strides=[2, 1], pads=[1, 0, 1, 1]),
            n("AveragePool", ["x1"], ["ap1"], name="avgpool1d", kernel_shape=[4], strides=[3]),
            n("AveragePool", ["x3"], ["ap3"], name="avgpool3d", kernel_shape=[2, 2, 2]),
            n("GlobalAveragePool", ["x2"], ["gap"], name="gap"),
            n("GlobalMaxPool", ["x3"], ["gmp"], name="gmp"),
        ],
        "ops_pool",
        [vi("x1", [1, 2, 11]), vi("x2", [1, 3, 7, 7]), vi("x3", [1, 2, 4, 4, 4])],
        [vi(o, None) for o in ["mp1", "mp2", "mp3", "ap_inc", "ap_exc", "ap1", "ap3", "gap", "gmp"]],
    )
    save("ops_pool", g, 13, [rnd(4, 1, 2, 11), rnd(4, 1, 3, 7, 7), rnd(4, 1, 2, 4, 4, 4)])


def ops_norm():
    n = helper.make_node
    g = helper.make_graph(
        [
            n("BatchNormalization", ["x", "s", "o", "m", "v"], ["bn"], name="batchnorm_standalone"),
            n("InstanceNormalization", ["x", "si", "oi"], ["inorm"], name="instancenorm", epsilon=1e-4),
            n("LayerNormalization", ["t", "sl", "ol"], ["lnorm"], name="layernorm", axis=-1),
            n("LayerNormalization", ["t", "sl2"], ["lnorm2"], name="layernorm_2axes", axis=1),
        ],
        "ops_norm",
        [vi("x", [1, 3, 5, 5]), vi("t", [1, 4, 8])],
        [vi(o, None) for o in ["bn", "inorm", "lnorm", "lnorm2"]],
        [init("s", f32(RNG.uniform(0.5, 1.5, 3))), init("o", rnd(3, scale=0.2)), init("m", rnd(3, scale=0.3)), init("v", f32(RNG.uniform(0.5, 2, 3))),
         init("si", f32(RNG.uniform(0.5, 1.5, 3))), init("oi", rnd(3, scale=0.2)), init("sl", f32(RNG.uniform(0.5, 1.5, 8))), init("ol", rnd(8, scale=0.2)),
         init("sl2", f32(RNG.uniform(0.5, 1.5, (4, 8))))],
    )
    save("ops_norm", g, 17, [rnd(5, 1, 3, 5, 5), rnd(5, 1, 4, 8)])


def ops_shape():
    n = helper.make_node
    i64 = lambda v: np.asarray(v, dtype=np.int64)
    g = helper.make_graph(
        [
            n("Identity", ["x"], ["xi"], name="identity"),
            n("Dropout", ["xi"], ["xd"], name="dropout"),
            n("Transpose", ["xd"], ["t"], name="transpose", perm=[0, 2, 3, 1]),
            n("Flatten", ["t"], ["fl"], name="flatten", axis=2),
            n("Reshape", ["fl", "shape1"], ["rs"], name="reshape"),
            n("Unsqueeze", ["rs", "ax0"], ["us"], name="unsqueeze"),
            n("Squeeze", ["us", "ax0"], ["sq"], name="squeeze"),
            n("Split", ["sq", "split"], ["s1", "s2"], name="split", axis=2),
            n("Concat", ["s2", "s1", "s1"], ["cat"], name="concat", axis=2),
            n("Slice", ["cat", "st", "en", "axs", "stp"], ["sl"], name="slice_neg_step"),
            n("Gather", ["sl", "gidx"], ["ga"], name="gather", axis=1),
            n("Tile", ["ga", "reps"], ["out_tile"], name="tile"),
            n("Expand", ["y", "eshape"], ["out_expand"], name="expand"),
            n("Pad", ["x", "pads"], ["out_pad_const"], name="pad_constant", mode="constant"),
            n("Pad", ["x", "pads", "pval"], ["out_pad_const_v"], name="pad_constant_value", mode="constant"),
            n("Pad", ["x", "pads"], ["out_pad_reflect"], name="pad_reflect", mode="reflect"),
            n("Pad", ["x", "pads"], ["out_pad_edge"], name="pad_edge", mode="edge"),
            # a shape subgraph that import must fold: reshape x to [N, -1] through Shape/Gather/Concat
            n("Shape", ["x"], ["xs"], name="shape"),
            n("Gather", ["xs", "zero"], ["n0"], name="gather_batch", axis=0),
            n("Unsqueeze", ["n0", "ax0"], ["n0u"], name="unsqueeze_batch"),
            n("Concat", ["n0u", "minus1"], ["tshape"], name="concat_shape", axis=0),
            n("Reshape", ["x", "tshape"], ["out_flat"], name="reshape_dynamic"),
        ],
        "ops_shape",
        [vi("x", [1, 3, 4, 5]), vi("y", [3, 1])],
        [vi(o, None) for o in ["out_tile", "out_expand", "out_pad_const", "out_pad_const_v", "out_pad_reflect", "out_pad_edge", "out_flat"]],
        [init("shape1", i64([0, 3, -1])), init("ax0", i64([0])), init("split", i64([2, 3])),
         init("st", i64([-1, 0])), init("en", i64([-100, 3])), init("axs", i64([2, 1])), init("stp", i64([-2, 1])),
         init("gidx", i64([[2, 0], [1, 1]])), init("reps", i64([1, 2, 1, 1])), init("eshape", i64([2, 3, 4])),
         init("pads", i64([0, 0, 1, 2, 0, 0, 2, 1])), init("pval", f32(0.75)), init("zero", i64(0)), init("minus1", i64([-1]))],
    )
    save("ops_shape", g, 13, [rnd(3, 1, 3, 4, 5), rnd(3, 3, 1)])


def ops_reduce():
    n = helper.make_node
    i64 = lambda v: np.asarray(v, dtype=np.int64)
    g = helper.make_graph(
        [
            n("ReduceSum", ["x", "a12"], ["rsum"], name="reducesum", keepdims=1),
            n("ReduceMean", ["x", "a2"], ["rmean"], name="reducemean", keepdims=0),
            n("ReduceMax", ["x", "a1"], ["rmax"], name="reducemax", keepdims=1),
            n("ReduceMean", ["x"], ["rall"], name="reducemean_all", keepdims=0),
            n("ArgMax", ["x"], ["amax"], name="argmax", axis=-1, keepdims=0),
        ],
        "ops_reduce",
        [vi("x", [2, 3, 4])],
        [vi("rsum", None), vi("rmean", None), vi("rmax", None), vi("rall", None), vi("amax", None, TensorProto.INT64)],
        [init("a12", i64([1, 2])), init("a2", i64([-1])), init("a1", i64([1]))],
    )
    save("ops_reduce", g, 18, [rnd(5, 2, 3, 4)])


def ops_linear():
    n = helper.make_node
    g = helper.make_graph(
        [
            n("Gemm", ["a", "w", "c"], ["gemm"], name="gemm_transA_alpha_beta", transA=1, alpha=0.5, beta=2.0),
            n("MatMul", ["b", "wb"], ["matmul_batched"], name="matmul_batched"),
            n("MatMul", ["b", "bt"], ["matmul_var"], name="matmul_two_inputs"),
            n("Transpose", ["b"], ["bt"], name="transpose_b", perm=[0, 2, 1]),
        ],
        "ops_linear",
        [vi("a", [4, 3]), vi("b", [2, 3, 4])],
        [vi("gemm", None), vi("matmul_batched", None), vi("matmul_var", None)],
        [init("w", rnd(4, 5)), init("c", rnd(5)), init("wb", rnd(4, 5))],
    )
    save("ops_linear", g, 21, [rnd(4, 4, 3), rnd(4, 2, 3, 4)])


def ops_legacy():
    """Opset 9 attribute forms: Pad/Slice/Split/Squeeze/Unsqueeze attributes, Clip min/max attributes."""
    n = helper.make_node
    g = helper.make_graph(
        [
            n("Pad", ["x"], ["p"], name="pad_attr", pads=[0, 0, 1, 1, 0, 0, 1, 1], mode="constant", value=0.5),
            n("Slice", ["p"], ["s"], name="slice_attr", starts=[1], ends=[4], axes=[2]),
            n("Split", ["s"], ["s1", "s2"], name="split_attr", axis=3, split=[2, 4]),
            n("Clip", ["s1"], ["c"], name="clip_attr", min=-0.5, max=0.5),
            n("Squeeze", ["s2"], ["sq"], name="squeeze_attr", axes=[0]),
            n("Unsqueeze", ["sq"], ["us"], name="unsqueeze_attr", axes=[3]),
            n("Softmax", ["c"], ["out_sm"], name="softmax_legacy", axis=2),
            n("ReduceSum", ["us"], ["out_rs"], name="reducesum_attr", axes=[1, 2], keepdims=0),
        ],
        "ops_legacy",
        [vi("x", [1, 2, 4, 4])],
        [vi("out_sm", None), vi("out_rs", None)],
    )
    save("ops_legacy", g, 9, [rnd(4, 1, 2, 4, 4)])


# ---------------------------------------------------------------- comparisons and ai.onnx.ml
def ops_compare():
    """Comparisons, logic and selection, with a Cast of a boolean to float."""
    n = helper.make_node
    g = helper.make_graph(
        [
            n("Less", ["x", "y"], ["lt"], name="less"),
            n("GreaterOrEqual", ["x", "t"], ["ge"], name="greater_or_equal"),
            n("Greater", ["x", "y"], ["gt"], name="greater"),
            n("LessOrEqual", ["y", "t"], ["le"], name="less_or_equal"),
            n("Equal", ["x", "x"], ["eq"], name="equal"),
            n("Not", ["lt"], ["nlt"], name="not"),
            n("And", ["nlt", "ge"], ["and"], name="and"),
            n("Or", ["gt", "le"], ["or"], name="or"),
            n("Xor", ["and", "or"], ["xor"], name="xor"),
            n("And", ["xor", "eq"], ["xe"], name="and_eq"),
            n("Where", ["xe", "x", "y"], ["out_where"], name="where"),
            n("Where", ["lt", "x", "t"], ["out_where_const"], name="where_const"),
            n("Sign", ["y"], ["out_sign"], name="sign"),
            n("Cast", ["or"], ["out_cast"], name="cast_bool", to=TensorProto.FLOAT),
        ],
        "ops_compare",
        [vi("x", [1, 12]), vi("y", [1, 12])],
        [vi("out_where", [1, 12]), vi("out_where_const", [1, 12]), vi("out_sign", [1, 12]), vi("out_cast", [1, 12])],
        [init("t", f32([0.25]))],
    )
    save("breadth/ops_compare", g, 13, [rnd(3, 1, 12), rnd(3, 1, 12)])


def ops_unary():
    """The elementwise functions of onnx-import/src/ops/unary.rs. Inputs keep away from the
    integers and halves (where Floor, Ceil, Round, ThresholdedRelu and Shrink jump), so a
    quantized input decides each jump as the float one does."""
    n = helper.make_node
    acts = [
        ("Sin", {}), ("Cos", {}), ("Atan", {}), ("Sinh", {}), ("Cosh", {}), ("Softsign", {}),
        ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {}), ("Celu", {"alpha": 1.5}), ("Mish", {}),
        ("ThresholdedRelu", {"alpha": 1.0}), ("Shrink", {"bias": 0.2, "lambd": 0.5}), ("Floor", {}), ("Ceil", {}), ("Round", {}),
    ]
    nodes = [n(op, ["x"], [f"out_{op.lower()}"], name=op.lower(), **attrs) for op, attrs in acts]
    outs = [f"out_{op.lower()}" for op, _ in acts]
    g = helper.make_graph(nodes, "ops_unary", [vi("x", [1, 16])], [vi(o, [1, 16]) for o in outs])
    rng = np.random.default_rng(2026)
    whole = rng.integers(-3, 3, size=(4, 1, 16))
    frac = rng.uniform(0.1, 0.4, size=(4, 1, 16)) + 0.5 * rng.integers(0, 2, size=(4, 1, 16))
    save("breadth/ops_unary", g, 18, [f32(whole + frac)])


def tabular():
    """scikit-learn / XGBoost / LightGBM models converted with skl2onnx / onnxmltools (ai.onnx.ml)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    from skl2onnx import to_onnx

    def conv(m, X, zipmap=True):
        opts = None if zipmap else {id(m): {"zipmap": False}}
        return to_onnx(m, X[:1], target_opset={"": 13, "ai.onnx.ml": 3}, options=opts)

    cx, cy = load_breast_cancer(return_X_y=True)
    cx = f32(cx)
    ix, iy = load_iris(return_X_y=True)
    ix = f32(ix)
    dx, dy = load_diabetes(return_X_y=True)
    dx = f32(dx)
    pick = lambda X, k: X[RNG.choice(len(X), k, replace=False)]
    # Linear models (a scaler pipeline; ZipMap on the probabilities).
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)).fit(cx, cy)
    save_model("breadth/ml_logreg_pipeline", conv(m, cx), [pick(cx, 4)])
    m = LogisticRegression(max_iter=3000).fit(ix, iy)
    save_model("breadth/ml_logreg_iris", conv(m, ix), [pick(ix, 4)])
    save_model("breadth/ml_linreg", conv(LinearRegression().fit(dx, dy), dx), [pick(dx, 4)])
    sx = f32(StandardScaler().fit_transform(cx))
    save_model("breadth/ml_linear_svc", conv(LinearSVC().fit(sx, cy), sx), [pick(sx, 4)])
    # Trees.
    save_model("breadth/ml_tree_iris", conv(DecisionTreeClassifier(max_depth=3, random_state=0).fit(ix, iy), ix, zipmap=False), [pick(ix, 4)])
    save_model("breadth/ml_tree_binary", conv(DecisionTreeClassifier(max_depth=3, random_state=0).fit(cx, cy), cx), [pick(cx, 4)])
    save_model("breadth/ml_tree_reg", conv(DecisionTreeRegressor(max_depth=3, random_state=0).fit(dx, dy), dx), [pick(dx, 4)])
    m = RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0).fit(dx, dy)
    save_model("breadth/ml_forest_reg", conv(m, dx), [pick(dx, 4)])
    m = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(ix, iy)
    save_model("breadth/ml_forest_iris", conv(m, ix), [pick(ix, 4)])
    m = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(cx, cy)
    save_model("breadth/ml_gbm_binary", conv(m, cx), [pick(cx, 4)])
    m = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(ix, iy)
    save_model("breadth/ml_gbm_iris", conv(m, ix), [pick(ix, 4)])
    # XGBoost and LightGBM through onnxmltools.
    import lightgbm
    import onnxmltools
    import xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    m = xgboost.XGBClassifier(n_estimators=4, max_depth=2, random_state=0).fit(ix, iy)
    o = onnxmltools.convert_xgboost(m, initial_types=[("input", FloatTensorType([None, 4]))], target_opset=13)
    save_model("breadth/ml_xgboost_iris", o, [pick(ix, 4)])
    m = lightgbm.LGBMClassifier(n_estimators=4, num_leaves=4, random_state=0, verbose=-1).fit(cx, cy)
    o = onnxmltools.convert_lightgbm(m, initial_types=[("input", FloatTensorType([None, 30]))], target_opset=13, zipmap=False)
    save_model("breadth/ml_lightgbm_binary", o, [pick(cx, 4)])


def tabular_small():
    """The ai.onnx.ml kinds whose other models are too large to prove in the test suite (diabetes and
    breast-cancer inputs and targets run into the thousands, so their lookup ranges need 2^21+
    rows), on iris-sized data: Scaler + LinearRegressor, TreeEnsembleRegressor, Binarizer,
    binary LinearClassifier with ArrayFeatureExtractor."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Binarizer
    from sklearn.svm import LinearSVC
    from skl2onnx import to_onnx

    rng = np.random.default_rng(2027)
    ix, iy = load_iris(return_X_y=True)
    ix = f32(ix)
    # Regress petal width on the other three measurements.
    rx, ry = ix[:, :3], ix[:, 3]
    conv = lambda m, X: to_onnx(m, X[:1], target_opset={"": 13, "ai.onnx.ml": 3})
    pick = lambda X, k: X[rng.choice(len(X), k, replace=False)]
    m = make_pipeline(StandardScaler(), LinearRegression()).fit(rx, ry)
    save_model("breadth/ml_linreg_iris", conv(m, rx), [pick(rx, 4)])
    m = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(rx, ry)
    save_model("breadth/ml_forest_reg_iris", conv(m, rx), [pick(rx, 4)])
    # Binary (virginica or not) on binarized measurements; iris values have one decimal, so a
    # threshold at .05 leaves no sample at the boundary.
    # (skl2onnx 1.20 cannot convert a pipeline ending in LinearSVC, hence two models.)
    vy = (iy == 2).astype(np.int64)
    m = make_pipeline(Binarizer(threshold=3.05), LogisticRegression()).fit(ix, vy)
    save_model("breadth/ml_binarizer_iris", conv(m, ix), [pick(ix, 4)])
    save_model("breadth/ml_linear_svc_iris", conv(LinearSVC().fit(ix, vy), ix), [pick(ix, 4)])


def recurrent():
    """LSTM, GRU and RNN nodes (opset 14, for `layout`): every direction, both layouts, peepholes,
    clip, linear_before_reset 0 and 1, initial states as constants and as model inputs, non-default
    activations; and an LSTM sequence classifier small enough to prove."""
    rng = np.random.default_rng(2028)
    w = lambda *shape: f32(rng.uniform(-0.6, 0.6, size=shape))
    x = lambda *shape: f32(rng.uniform(-1, 1, size=shape))
    n = helper.make_node
    T, B, I, H = 4, 2, 3, 4
    # LSTM: forward with initial states as inputs; bidirectional with peepholes, clip and
    # constant initial states.
    g = helper.make_graph(
        [
            n("LSTM", ["x", "lw", "lr", "lb", "", "h0", "c0"], ["y1", "yh1", "yc1"], name="lstm_fwd", hidden_size=H),
            n("LSTM", ["x", "bw", "br", "bb", "", "bh0", "bc0", "bp"], ["y2", "yh2", "yc2"], name="lstm_bidir",
              hidden_size=H, direction="bidirectional", clip=0.9),
        ],
        "rnn_lstm",
        [vi("x", [T, B, I]), vi("h0", [1, B, H]), vi("c0", [1, B, H])],
        [vi(o, None) for o in ["y1", "yh1", "yc1", "y2", "yh2", "yc2"]],
        [init("lw", w(1, 4 * H, I)), init("lr", w(1, 4 * H, H)), init("lb", w(1, 8 * H)),
         init("bw", w(2, 4 * H, I)), init("br", w(2, 4 * H, H)), init("bb", w(2, 8 * H)),
         init("bh0", w(2, B, H)), init("bc0", w(2, B, H)), init("bp", w(2, 3 * H))],
    )
    save("breadth/rnn_lstm", g, 14, [x(3, T, B, I), x(3, 1, B, H), x(3, 1, B, H)])
    # Batch-major (layout 1), reverse, with constant initial states: onnxruntime refuses
    # layout 1, so the expected outputs come from onnx's reference evaluator.
    g = helper.make_graph(
        [n("LSTM", ["x", "w", "r", "b", "", "h0", "c0"], ["y", "yh", "yc"], name="lstm_batch_major", hidden_size=H, direction="reverse", layout=1)],
        "rnn_lstm_layout1",
        [vi("x", [B, T, I])],
        [vi(o, None) for o in ["y", "yh", "yc"]],
        [init("w", w(1, 4 * H, I)), init("r", w(1, 4 * H, H)), init("b", w(1, 8 * H)), init("h0", w(B, 1, H)), init("c0", w(B, 1, H))],
    )
    save("breadth/rnn_lstm_layout1", g, 14, [x(3, B, T, I)], reference=True)
    # GRU: PyTorch's form (linear_before_reset = 1) forward, and the ONNX default reverse with
    # a constant initial state; bidirectional with HardSigmoid / Softsign.
    g = helper.make_graph(
        [
            n("GRU", ["x", "gw", "gr", "gb"], ["y1", "yh1"], name="gru_lbr", hidden_size=H, linear_before_reset=1),
            n("GRU", ["x", "gw", "gr", "gb", "", "gh0"], ["y2", "yh2"], name="gru_reverse", hidden_size=H, direction="reverse"),
            n("GRU", ["x", "dw", "dr", "db"], ["y3", "yh3"], name="gru_bidir", hidden_size=H, direction="bidirectional",
              activations=["HardSigmoid", "Softsign", "Sigmoid", "Tanh"], activation_alpha=[0.25], activation_beta=[0.45]),
        ],
        "rnn_gru",
        [vi("x", [T, B, I])],
        [vi(o, None) for o in ["y1", "yh1", "y2", "yh2", "y3", "yh3"]],
        [init("gw", w(1, 3 * H, I)), init("gr", w(1, 3 * H, H)), init("gb", w(1, 6 * H)), init("gh0", w(1, B, H)),
         init("dw", w(2, 3 * H, I)), init("dr", w(2, 3 * H, H)), init("db", w(2, 6 * H))],
    )
    save("breadth/rnn_gru", g, 14, [x(3, T, B, I)])
    # RNN: tanh forward with an initial state input, bidirectional Relu / LeakyRelu.
    g = helper.make_graph(
        [
            n("RNN", ["x", "rw", "rr", "rb", "", "h0"], ["y1", "yh1"], name="rnn_tanh", hidden_size=H),
            n("RNN", ["x", "sw", "sr"], ["y2", "yh2"], name="rnn_bidir", hidden_size=H, direction="bidirectional",
              activations=["Relu", "LeakyRelu"], activation_alpha=[0.1]),
        ],
        "rnn_simple",
        [vi("x", [T, B, I]), vi("h0", [1, B, H])],
        [vi(o, None) for o in ["y1", "yh1", "y2", "yh2"]],
        [init("rw", w(1, H, I)), init("rr", w(1, H, H)), init("rb", w(1, 2 * H)), init("sw", w(2, H, I)), init("sr", w(2, H, H))],
    )
    save("breadth/rnn_simple", g, 14, [x(3, T, B, I), x(3, 1, B, H)])
    # A sequence classifier: LSTM (as PyTorch exports it: initial states omitted), last state,
    # a linear head; one sequence of 5 steps per sample.
    T1, I1, H1 = 5, 3, 4
    g = helper.make_graph(
        [
            n("LSTM", ["x", "w", "r", "b"], ["", "yh"], name="lstm", hidden_size=H1),
            n("Squeeze", ["yh", "axes0"], ["last"], name="squeeze"),
            n("Gemm", ["last", "hw", "hb"], ["logits"], name="head", transB=1),
        ],
        "rnn_lstm_classifier",
        [vi("x", [T1, 1, I1])],
        [vi("logits", [1, 3])],
        [init("w", w(1, 4 * H1, I1)), init("r", w(1, 4 * H1, H1)), init("b", w(1, 8 * H1)), init("axes0", np.array([0], dtype=np.int64)),
         init("hw", w(3, H1)), init("hb", w(3))],
    )
    save("breadth/rnn_lstm_classifier", g, 14, [x(3, T1, 1, I1)])


def legacy_opsets():
    """Opset 1–6 forms (`broadcast`/`axis`, channel-wise PRelu slopes, `consumed_inputs`,
    BatchNormalization `is_test`, Cast to a type name, Concat without axis, Split by input,
    Reshape by attribute) and BatchNormalization `spatial = 0` (opset 7). onnxruntime has no
    kernels for opsets below 7 (and onnx's version converter mis-converts a broadcast `axis`), so
    each legacy model's expected outputs come from the same graph written by hand in the opset 13
    form (constants reshaped as the legacy rules say)."""
    rng = np.random.default_rng(2029)
    w = lambda *shape: f32(rng.uniform(-1, 1, size=shape))
    n = helper.make_node
    C, H, W = 3, 4, 4

    def legacy(graph, opset, modern_graph, name, samples):
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="zkinfer-tests")
        m.ir_version = 4
        onnx.checker.check_model(m)
        modern = helper.make_model(modern_graph, opset_imports=[helper.make_opsetid("", 13)])
        modern.ir_version = 8
        save_model(name, m, samples, expected_from=modern)

    b, s, slope, t, c2 = w(C), w(W), w(C), w(C), w(H, W)
    bn = [w(C), w(C), w(C), np.abs(w(C)) + 0.5]
    bn_names = ["sc", "bi", "me", "va"]
    inits = lambda b_, slope_, t_: [init("b", b_), init("s", s), init("slope", slope_), init("t", t_), init("c2", c2)] + [init(k, v) for k, v in zip(bn_names, bn)]
    common_tail = lambda legacy: [
        n("Add", ["x", "b"], ["a"], name="add_axis1", **({"broadcast": 1, "axis": 1} if legacy else {})),
        n("Mul", ["a", "s"], ["m"], name="mul_suffix", **({"broadcast": 1} if legacy else {})),
        n("PRelu", ["m", "slope"], ["p"], name="prelu_channel"),
        n("BatchNormalization", ["p"] + bn_names, ["bn"], name="bn", epsilon=1e-3, **({"is_test": 1} if legacy else {})),
        n("Sub", ["bn", "c2"], ["y1"], name="sub_axis2", **({"broadcast": 1, "axis": 2} if legacy else {})),
        n("Greater", ["y1", "t"], ["gt"], name="greater_axis1", **({"broadcast": 1, "axis": 1} if legacy else {})),
        n("Cast", ["gt"], ["y2"], name="cast", to=1),
        n("Dropout", ["y1"], ["y3"], name="dropout", **({"is_test": 1} if legacy else {})),
    ]
    io = ([vi("x", [1, C, H, W])], [vi("y2", [1, C, H, W]), vi("y3", [1, C, H, W])])
    g6 = helper.make_graph(common_tail(True), "ops_opset6", *io, inits(b, slope, t))
    g13 = helper.make_graph(common_tail(False), "ops_opset6", *io, inits(b.reshape(C, 1, 1), slope.reshape(C, 1, 1), t.reshape(C, 1, 1)))
    legacy(g6, 6, g13, "breadth/ops_opset6", [w(3, 1, C, H, W)])

    b1 = w(C)
    g1 = helper.make_graph(
        [
            n("Relu", ["x"], ["r"], name="relu", consumed_inputs=[0]),
            n("Add", ["r", "b"], ["a"], name="add_axis1", broadcast=1, axis=1, consumed_inputs=[0, 0]),
            n("Concat", ["a", "x"], ["c"], name="concat_default_axis"),
            n("Split", ["c", "sizes"], ["s1", "s2"], name="split_by_input", axis=1),
            n("Sigmoid", ["s2"], ["g"], name="sigmoid", consumed_inputs=[0]),
            n("Reshape", ["g"], ["y1"], name="reshape_attr", shape=[1, -1]),
            n("Cast", ["s1"], ["y2"], name="cast_by_name", to="FLOAT"),
            n("Softmax", ["y1"], ["y3"], name="softmax"),
        ],
        "ops_opset1", [vi("x", [1, C, H])], [vi("y2", [1, 2, H]), vi("y3", [1, 4 * H])],
        [init("b", b1), init("sizes", np.array([2, 4], dtype=np.int64))],
    )
    g13 = helper.make_graph(
        [
            n("Relu", ["x"], ["r"]),
            n("Add", ["r", "b"], ["a"]),
            n("Concat", ["a", "x"], ["c"], axis=1),
            n("Split", ["c", "sizes"], ["s1", "s2"], axis=1),
            n("Sigmoid", ["s2"], ["g"]),
            n("Reshape", ["g", "shape"], ["y1"]),
            n("Cast", ["s1"], ["y2"], to=1),
            n("Softmax", ["y1"], ["y3"], axis=1),
        ],
        "ops_opset1", [vi("x", [1, C, H])], [vi("y2", [1, 2, H]), vi("y3", [1, 4 * H])],
        [init("b", b1.reshape(C, 1)), init("sizes", np.array([2, 4], dtype=np.int64)), init("shape", np.array([1, -1], dtype=np.int64))],
    )
    legacy(g1, 1, g13, "breadth/ops_opset1", [w(3, 1, C, H)])

    # BatchNormalization with per-activation statistics (spatial = 0, opsets 1–8).
    g = helper.make_graph(
        [n("BatchNormalization", ["x", "sc", "bi", "me", "va"], ["y"], name="bn_per_activation", spatial=0)],
        "ops_bn_spatial0", [vi("x", [1, C, H, W])], [vi("y", [1, C, H, W])],
        [init("sc", w(C, H, W)), init("bi", w(C, H, W)), init("me", w(C, H, W)), init("va", np.abs(w(C, H, W)) + 0.5)],
    )
    save("breadth/ops_bn_spatial0", g, 7, [w(3, 1, C, H, W)])


def ops_select():
    """Reductions and selections lowered to proved ops (ReduceMin/L1/L2/SumSquare/LogSumExp/Prod,
    ArgMin, Hardmax, TopK, OneHot) and Log / Reciprocal. Each row holds well-separated values
    (a permutation of a grid), so no quantization tie changes an index."""
    rng = np.random.default_rng(2030)
    n = helper.make_node
    I = TensorProto.INT64
    ax = lambda name, v: init(name, np.array(v, dtype=np.int64))
    g = helper.make_graph(
        [
            n("ReduceMin", ["x", "a1"], ["r_min"], name="reduce_min"),
            n("ReduceL1", ["x", "a1"], ["r_l1"], name="reduce_l1", keepdims=0),
            n("ReduceL2", ["x", "a1"], ["r_l2"], name="reduce_l2"),
            n("ReduceSumSquare", ["x", "a0"], ["r_ss"], name="reduce_sum_square"),
            n("ReduceLogSumExp", ["x", "a1"], ["r_lse"], name="reduce_log_sum_exp", keepdims=0),
            n("ReduceProd", ["x", "a1"], ["r_prod"], name="reduce_prod"),
            n("ArgMin", ["x"], ["i_min"], name="argmin", axis=1),
            n("Hardmax", ["x"], ["h"], name="hardmax", axis=1),
            n("TopK", ["x", "k3"], ["top_v", "top_i"], name="top3", axis=1),
            n("TopK", ["x", "k2"], ["bot_v", "bot_i"], name="bottom2", axis=-1, largest=0),
            n("ArgMax", ["x"], ["am"], name="argmax", axis=1, keepdims=0),
            n("OneHot", ["am", "depth", "onoff"], ["oh"], name="onehot"),
            n("Abs", ["x"], ["ab"], name="abs"),
            n("Add", ["ab", "half"], ["pos"], name="add_half"),
            n("Log", ["pos"], ["lg"], name="log"),
            n("Reciprocal", ["pos"], ["rc"], name="reciprocal"),
        ],
        "ops_select",
        [vi("x", [2, 6])],
        [vi("r_min", [2, 1]), vi("r_l1", [2]), vi("r_l2", [2, 1]), vi("r_ss", [1, 6]), vi("r_lse", [2]), vi("r_prod", [2, 1]),
         vi("i_min", [2, 1], I), vi("h", [2, 6]), vi("top_v", [2, 3]), vi("top_i", [2, 3], I), vi("bot_v", [2, 2]), vi("bot_i", [2, 2], I),
         vi("oh", [2, 6]), vi("lg", [2, 6]), vi("rc", [2, 6])],
        [ax("a0", [0]), ax("a1", [1]), ax("k3", [3]), ax("k2", [2]), ax("depth", [6]), init("onoff", f32([-1.0, 2.0])), init("half", f32([0.5]))],
    )
    grid = f32(np.linspace(-1.9, 1.9, 6))
    xs = f32([[rng.permutation(grid) for _ in range(2)] for _ in range(4)])
    save("breadth/ops_select", g, 18, [xs])


def ops_construct():
    """ConstantOfShape, Range, EyeLike, Trilu, DepthToSpace (DCR, CRD), SpaceToDepth, IsNaN and
    IsInf, lowered at import to constants, products by constants and rearrangements."""
    n = helper.make_node
    ax = lambda name, v: init(name, np.array(v, dtype=np.int64))
    g = helper.make_graph(
        [
            n("DepthToSpace", ["x"], ["d_dcr"], name="d2s_dcr", blocksize=2),
            n("DepthToSpace", ["x"], ["d_crd"], name="d2s_crd", blocksize=2, mode="CRD"),
            n("SpaceToDepth", ["d_dcr"], ["s2d"], name="s2d", blocksize=2),
            n("Trilu", ["m", "one"], ["t_up"], name="triu_k1"),
            n("Trilu", ["m"], ["t_low"], name="tril", upper=0),
            n("ConstantOfShape", ["shape34"], ["c"], name="const_of_shape", value=helper.make_tensor("v", F, [1], [0.5])),
            n("Add", ["m", "c"], ["m_c"], name="add_const"),
            n("Range", ["r0", "r4", "r1"], ["r"], name="range"),
            n("Mul", ["m", "r"], ["m_r"], name="mul_range"),
            n("EyeLike", ["m"], ["eye"], name="eye_like", k=1),
            n("Add", ["m", "eye"], ["m_eye"], name="add_eye"),
            n("IsNaN", ["m"], ["nan"], name="is_nan"),
            n("Where", ["nan", "zero", "m"], ["m_nan"], name="where_nan"),
            n("IsInf", ["m"], ["inf"], name="is_inf"),
            n("Cast", ["inf"], ["inf_f"], name="cast_inf", to=1),
            n("Add", ["m", "inf_f"], ["m_inf"], name="add_inf"),
        ],
        "ops_construct",
        [vi("x", [1, 8, 2, 2]), vi("m", [3, 4])],
        [vi(o, None) for o in ["d_dcr", "d_crd", "s2d", "t_up", "t_low", "m_c", "m_r", "m_eye", "m_nan", "m_inf"]],
        [ax("one", 1), ax("shape34", [3, 4]), init("r0", f32(0.0)), init("r4", f32(4.0)), init("r1", f32(1.0)), init("zero", f32([0.0]))],
    )
    save("breadth/ops_construct", g, 18, [rnd(3, 1, 8, 2, 2), rnd(3, 3, 4)])


def ops_attention():
    """Products of two activations (self-attention scores and their weighted sum), Einsum forms,
    and indexing with indices computed by the model: Gather from an embedding table and from
    the activations, GatherElements with runtime and constant indices. Rows are permutations of
    a grid so ArgMax has no near-ties."""
    rng = np.random.default_rng(2031)
    n = helper.make_node
    T, D = 4, 6
    w = lambda *shape: f32(rng.uniform(-0.5, 0.5, size=shape))
    g = helper.make_graph(
        [
            n("MatMul", ["x", "wq"], ["q"], name="q"),
            n("MatMul", ["x", "wk"], ["k"], name="k"),
            n("MatMul", ["x", "wv"], ["v"], name="v"),
            n("Transpose", ["k"], ["kt"], name="kt", perm=[0, 2, 1]),
            n("MatMul", ["q", "kt"], ["s"], name="scores"),
            n("Mul", ["s", "scale"], ["ss"], name="scale"),
            n("Softmax", ["ss"], ["p"], name="softmax", axis=-1),
            n("MatMul", ["p", "v"], ["att"], name="attend"),
            n("Einsum", ["q", "k"], ["e_scores"], name="einsum_scores", equation="bid,bjd->bij"),
            n("Einsum", ["p", "v"], ["e_att"], name="einsum_attend", equation="bij,bjd->bid"),
            n("Einsum", ["x"], ["e_t"], name="einsum_transpose", equation="bid->bdi"),
            n("Einsum", ["x", "wq"], ["e_lin"], name="einsum_linear", equation="bid,de->bie"),
            n("Einsum", ["q", "k"], ["e_dot"], name="einsum_dot", equation="bid,bid->b"),
            n("Einsum", ["x"], ["e_sum"], name="einsum_sum", equation="bid"),
            n("ArgMax", ["x"], ["idx"], name="argmax", axis=2, keepdims=0),
            n("Gather", ["emb", "idx"], ["g_emb"], name="embedding"),
            n("Gather", ["x", "idx"], ["g_act"], name="gather_act", axis=2),
            n("Unsqueeze", ["idx", "ax2"], ["idx3"], name="unsqueeze"),
            n("GatherElements", ["x", "idx3"], ["ge_rt"], name="gather_elements_rt", axis=2),
            n("GatherElements", ["x", "cidx"], ["ge_c"], name="gather_elements_const", axis=1),
        ],
        "ops_attention",
        [vi("x", [1, T, D])],
        [vi(o, None) for o in ["att", "e_scores", "e_att", "e_t", "e_lin", "e_dot", "e_sum", "g_emb", "g_act", "ge_rt", "ge_c"]],
        [init("wq", w(D, D)), init("wk", w(D, D)), init("wv", w(D, D)), init("scale", f32([1 / np.sqrt(D)])),
         init("emb", w(D, 3)), init("ax2", np.array([2], dtype=np.int64)),
         init("cidx", np.array([[[3, 0, 1, 2, 0, 3], [1, 1, 2, 0, 3, 2]]], dtype=np.int64))],
    )
    grid = f32(np.linspace(-1.5, 1.5, D))
    xs = f32([[[rng.permutation(grid) for _ in range(T)]] for _ in range(3)])
    save("breadth/ops_attention", g, 13, [xs])


def ops_resize():
    """Resize (nearest and linear; half_pixel, align_corners, asymmetric, pytorch_half_pixel;
    by scales and by sizes) at opset 13, and Upsample (nearest, linear) at opset 9."""
    n = helper.make_node
    sc = lambda name, v: init(name, f32(v))
    sz = lambda name, v: init(name, np.array(v, dtype=np.int64))
    g = helper.make_graph(
        [
            n("Resize", ["x", "", "s2"], ["r_nearest"], name="nearest_x2"),
            n("Resize", ["x", "", "", "z57"], ["r_linear"], name="linear_sizes", mode="linear"),
            n("Resize", ["x", "", "s15"], ["r_corners"], name="linear_align_corners", mode="linear", coordinate_transformation_mode="align_corners"),
            n("Resize", ["x", "", "s152"], ["r_floor"], name="nearest_asymmetric_floor", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
            n("Resize", ["x", "", "", "z68"], ["r_torch"], name="linear_pytorch", mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
        ],
        "ops_resize",
        [vi("x", [1, 2, 3, 4])],
        [vi(o, None) for o in ["r_nearest", "r_linear", "r_corners", "r_floor", "r_torch"]],
        [sc("s2", [1, 1, 2, 2]), sz("z57", [1, 2, 5, 7]), sc("s15", [1, 1, 2, 1.5]), sc("s152", [1, 1, 1.5, 2]), sz("z68", [1, 2, 6, 8])],
    )
    save("breadth/ops_resize", g, 13, [rnd(3, 1, 2, 3, 4)])
    g = helper.make_graph(
        [
            n("Upsample", ["x", "s2"], ["u_nearest"], name="upsample_nearest"),
            n("Upsample", ["x", "s23"], ["u_linear"], name="upsample_linear", mode="linear"),
        ],
        "ops_upsample",
        [vi("x", [1, 2, 3, 4])],
        [vi(o, None) for o in ["u_nearest", "u_linear"]],
        [sc("s2", [1, 1, 2, 2]), sc("s23", [1, 1, 2, 3])],
    )
    save("breadth/ops_upsample", g, 9, [rnd(3, 1, 2, 3, 4)])


def svm_models():
    """SVMRegressor and SVMClassifier through skl2onnx: SVR with linear, RBF, polynomial and
    sigmoid kernels, a one-class SVM (RBF, then Sign), and SVCs (three-class RBF and linear,
    binary polynomial), on iris-sized data. (LinearSVR / LinearSVC convert to the Linear* ops.)"""
    from sklearn.datasets import load_iris
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC, SVR, OneClassSVM
    from skl2onnx import to_onnx

    rng = np.random.default_rng(2032)
    ix, _ = load_iris(return_X_y=True)
    ix = f32(ix)
    rx, ry = ix[:, :3], ix[:, 3]
    conv = lambda m, X: to_onnx(m, X[:1], target_opset={"": 13, "ai.onnx.ml": 3})
    pick = lambda X, k: X[rng.choice(len(X), k, replace=False)]
    save_model("breadth/ml_svr_linear", conv(SVR(kernel="linear", C=1.0, epsilon=0.3).fit(rx, ry), rx), [pick(rx, 4)])
    save_model("breadth/ml_svr_rbf", conv(SVR(kernel="rbf", gamma=0.5, C=1.0, epsilon=0.3).fit(rx, ry), rx), [pick(rx, 4)])
    # A polynomial kernel on raw iris measurements sums large, cancelling terms (an output error
    # of 1% at scale 13 from the support vectors' rounding alone): standardise first, as usual.
    m = make_pipeline(StandardScaler(), SVR(kernel="poly", degree=2, gamma=0.5, coef0=1.0, epsilon=0.3)).fit(rx, ry)
    save_model("breadth/ml_svr_poly", conv(m, rx), [pick(rx, 4)])
    save_model("breadth/ml_svr_sigmoid", conv(SVR(kernel="sigmoid", gamma=0.05, coef0=0.0, C=0.5, epsilon=0.3).fit(rx, ry), rx), [pick(rx, 4)])
    save_model("breadth/ml_one_class_svm", conv(OneClassSVM(gamma=0.3, nu=0.2).fit(rx), rx), [pick(rx, 4)])
    # SVMClassifier (one-vs-one). skl2onnx appends scikit-learn's ovr decision function (votes
    # plus bounded confidences) after the three-class SVCs; the binary one is the op alone.
    cx, cy = ix, load_iris(return_X_y=True)[1]
    save_model("breadth/ml_svc_rbf", conv(SVC(kernel="rbf", gamma=0.5, C=1.0).fit(cx, cy), cx), [pick(cx, 4)])
    save_model("breadth/ml_svc_linear", conv(SVC(kernel="linear", C=0.5).fit(cx, cy), cx), [pick(cx, 4)])
    bx, by = cx[cy < 2][:, :2], cy[cy < 2]
    m = make_pipeline(StandardScaler(), SVC(kernel="poly", degree=2, gamma=0.3, coef0=1.0)).fit(bx, by)
    save_model("breadth/ml_svc_poly_binary", conv(m, bx), [pick(bx, 4)])


def tree_modes():
    """Branch modes beyond the four comparisons and the opset-5 TreeEnsemble: a hand-written
    TreeEnsembleClassifier (ml opset 3) with BRANCH_EQ / BRANCH_NEQ on iris petal widths and the
    SOFTMAX_ZERO post transform, and a TreeEnsemble (ml opset 5) holding a scikit-learn forest
    (two regression targets) plus a tree with BRANCH_EQ, BRANCH_NEQ and BRANCH_MEMBER nodes."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestRegressor

    ix, iy = load_iris(return_X_y=True)
    ix = f32(ix)
    # Samples at the equality thresholds (petal width 1.8 and 1.3), below the first split, and others.
    rows = [np.flatnonzero(ix[:, 3] == np.float32(1.8))[0], np.flatnonzero(ix[:, 3] == np.float32(1.3))[0], 0, 120, 75]
    samples = ix[rows]
    # Tree 0: petal length <= 2.45 ? class 0 : (petal width == 1.8 ? class 2 : (petal width != 1.3 ? class 2 (+1) : class 1)).
    # Tree 1: sepal length > 5.8 ? classes 2, 1 : class 0.
    nodes = [  # (tree, node, feature, mode, value, true, false)
        (0, 0, 2, "BRANCH_LEQ", 2.45, 1, 2), (0, 1, 0, "LEAF", 0, 0, 0), (0, 2, 3, "BRANCH_EQ", 1.8, 3, 4),
        (0, 3, 0, "LEAF", 0, 0, 0), (0, 4, 3, "BRANCH_NEQ", 1.3, 5, 6), (0, 5, 0, "LEAF", 0, 0, 0), (0, 6, 0, "LEAF", 0, 0, 0),
        (1, 0, 0, "BRANCH_GT", 5.8, 1, 2), (1, 1, 0, "LEAF", 0, 0, 0), (1, 2, 0, "LEAF", 0, 0, 0),
    ]
    votes = [(0, 1, 0, 1.0), (0, 3, 2, 0.5), (0, 5, 2, 0.7), (0, 5, 1, 0.2), (0, 6, 1, 1.0), (1, 1, 2, 0.6), (1, 1, 1, 0.3), (1, 2, 0, 0.4)]
    col = lambda rows, k: [r[k] for r in rows]
    node = helper.make_node(
        "TreeEnsembleClassifier", ["x"], ["label", "probabilities"], domain="ai.onnx.ml", name="eq_trees",
        nodes_treeids=col(nodes, 0), nodes_nodeids=col(nodes, 1), nodes_featureids=col(nodes, 2),
        nodes_modes=col(nodes, 3), nodes_values=[float(v) for v in col(nodes, 4)],
        nodes_truenodeids=col(nodes, 5), nodes_falsenodeids=col(nodes, 6),
        class_treeids=col(votes, 0), class_nodeids=col(votes, 1), class_ids=col(votes, 2), class_weights=col(votes, 3),
        classlabels_int64s=[0, 1, 2], post_transform="SOFTMAX_ZERO",
    )
    g = helper.make_graph([node], "tree_modes", [vi("x", [None, 4])],
                          [helper.make_tensor_value_info("label", TensorProto.INT64, [None]), vi("probabilities", [None, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)], producer_name="zkinfer-tests")
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    save_model("breadth/ml_tree_modes", m, [samples])

    # TreeEnsemble (ml opset 5): target 0, a forest regressing petal width on sepal length and
    # petal length, in the opset-5 form (leaves are entries of leaf_*, one target each); target 1,
    # a hand-written tree with EQ, MEMBER and NEQ nodes.
    fx, fy = ix[:, [0, 2]], ix[:, 3]
    forest = RandomForestRegressor(n_estimators=2, max_depth=3, random_state=1).fit(fx, fy)
    feat, split, mode, tid, fid, tleaf, fleaf, roots, leaf_t, leaf_w = [], [], [], [], [], [], [], [], [], []

    def add_leaf(target, weight):
        leaf_t.append(target)
        leaf_w.append(float(weight))
        return len(leaf_t) - 1

    for est in forest.estimators_:
        tr = est.tree_
        internal = [i for i in range(tr.node_count) if tr.children_left[i] >= 0]
        index = {n: len(feat) + k for k, n in enumerate(internal)}
        roots.append(index[0])
        for n in internal:
            feat.append(int(tr.feature[n]))
            split.append(float(np.float32(tr.threshold[n])))
            mode.append(0)  # BRANCH_LEQ
            for child, ids, leafs in ((tr.children_left[n], tid, tleaf), (tr.children_right[n], fid, fleaf)):
                if tr.children_left[child] >= 0:
                    ids.append(index[child])
                    leafs.append(0)
                else:
                    ids.append(add_leaf(0, tr.value[child][0, 0]))
                    leafs.append(1)
    # Hand-written tree for target 1: petal length == 1.4 ? 3.3 : (sepal length in {5.0, 6.3, 6.7} ? 3.0 : (petal length != 4.5 ? 2.9 : 2.5)).
    n0 = len(feat)
    feat += [1, 0, 1]; split += [1.4, 0.0, 4.5]; mode += [4, 6, 5]
    l_a, l_b, l_c, l_d = (add_leaf(1, w) for w in (3.3, 3.0, 2.9, 2.5))
    tid += [l_a, l_b, l_c]; tleaf += [1, 1, 1]
    fid += [n0 + 1, n0 + 2, l_d]; fleaf += [0, 0, 1]
    roots.append(n0)
    members = [5.0, 6.3, 6.7, float("nan")]
    t = lambda name, v, dt: helper.make_tensor(name, dt, [len(v)], v)
    node = helper.make_node(
        "TreeEnsemble", ["x"], ["y"], domain="ai.onnx.ml", name="forest5",
        nodes_featureids=feat, nodes_splits=t("s", split, TensorProto.FLOAT), nodes_modes=t("m", mode, TensorProto.UINT8),
        nodes_truenodeids=tid, nodes_falsenodeids=fid, nodes_trueleafs=tleaf, nodes_falseleafs=fleaf,
        leaf_targetids=leaf_t, leaf_weights=t("w", leaf_w, TensorProto.FLOAT), tree_roots=roots,
        membership_values=t("mv", members, TensorProto.FLOAT), n_targets=2, aggregate_function=1, post_transform=0,
    )
    g = helper.make_graph([node], "tree_ensemble5", [vi("x", [None, 2])], [vi("y", [None, 2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)], producer_name="zkinfer-tests")
    m.ir_version = 10
    onnx.checker.check_model(m, full_check=True)
    pick_rows = [np.flatnonzero(ix[:, 2] == np.float32(1.4))[0], np.flatnonzero(ix[:, 0] == np.float32(6.3))[0], np.flatnonzero(ix[:, 2] == np.float32(4.5))[0], 60, 140]
    save_model("breadth/ml_tree_ensemble5", m, [fx[pick_rows]])
    ref = Reference(m).run(None, {"x": fx[pick_rows]})[0]
    got = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": fx[pick_rows]})[0]
    assert np.allclose(ref, got, atol=1e-6), (ref, got)  # onnxruntime and onnx's reference agree


def ops_int_inputs():
    """Integer and boolean model inputs (quantized at scale 0): token ids into an embedding Gather,
    a boolean mask into Where and And, integer categories through a numeric LabelEncoder and a
    Cast, integer arithmetic on an integer input, and a cast of floats to bool."""
    rng = np.random.default_rng(2033)
    emb = init("emb", f32(rng.uniform(-1, 1, size=(6, 3))))
    one = numpy_helper.from_array(np.array(1, dtype=np.int64), "one")
    quarter = init("quarter", f32(0.25))
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["e"], axis=0),
        helper.make_node("ReduceSum", ["e", "axis2"], ["s"], keepdims=0),
        helper.make_node("Where", ["mask", "s", "x"], ["y1"]),
        helper.make_node("LabelEncoder", ["cat"], ["le"], domain="ai.onnx.ml", keys_int64s=[1, 2, 3, 7],
                         values_floats=[0.5, -1.0, 2.25, 4.0], default_float=0.0),
        helper.make_node("Cast", ["cat"], ["cf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["cf", "quarter"], ["cq"]),
        helper.make_node("Add", ["le", "cq"], ["y2"]),
        helper.make_node("Add", ["ids", "one"], ["y3"]),
        helper.make_node("Cast", ["x"], ["xb"], to=TensorProto.BOOL),
        helper.make_node("And", ["mask", "xb"], ["both"]),
        helper.make_node("Cast", ["both"], ["y4"], to=TensorProto.FLOAT),
    ]
    axis2 = numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2")
    g = helper.make_graph(
        nodes, "ops_int_inputs",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4]), helper.make_tensor_value_info("mask", TensorProto.BOOL, [1, 4]),
         vi("x", [1, 4]), helper.make_tensor_value_info("cat", TensorProto.INT64, [1, 3])],
        [vi("y1", [1, 4]), vi("y2", [1, 3]), helper.make_tensor_value_info("y3", TensorProto.INT64, [1, 4]), vi("y4", [1, 4])],
        initializer=[emb, one, quarter, axis2],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)], producer_name="zkinfer-tests")
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    k = 4
    ids = rng.integers(0, 6, size=(k, 1, 4))
    mask = rng.integers(0, 2, size=(k, 1, 4))
    x = f32(rng.uniform(-2, 2, size=(k, 1, 4)))
    x[0, 0, 1] = 0.0  # a zero: false as a bool
    cat = rng.choice([1, 2, 3, 5, 7], size=(k, 1, 3))
    save_model("breadth/ops_int_inputs", m, [ids, mask, x, cat])


def ops_math():
    """The remaining elementwise ops: Asin, Acos, Asinh, Acosh, Atanh, Tan (as sin / cos), Pow with
    a runtime exponent (runtime and constant base), and Mod (fmod 0 and 1, integer and float)."""
    rng = np.random.default_rng(2034)
    c = lambda name, v, dt=np.float32: numpy_helper.from_array(np.array(v, dtype=dt), name)
    nodes = [
        helper.make_node("Asin", ["x"], ["asin"]), helper.make_node("Acos", ["x"], ["acos"]),
        helper.make_node("Atanh", ["x"], ["atanh"]), helper.make_node("Tan", ["x"], ["tan"]),
        helper.make_node("Mul", ["p", "three"], ["p3"]), helper.make_node("Asinh", ["p3"], ["asinh"]),
        helper.make_node("Add", ["p", "one"], ["p1"]), helper.make_node("Acosh", ["p1"], ["acosh"]),
        helper.make_node("Pow", ["p", "x"], ["pow_px"]), helper.make_node("Pow", ["two", "x"], ["pow_2x"]),
        helper.make_node("Mod", ["k", "k3"], ["mod_k3"]), helper.make_node("Mod", ["k", "km4"], ["mod_km4"]),
        helper.make_node("Mod", ["k", "k3"], ["fmod_k3"], fmod=1),
        helper.make_node("Mul", ["x", "five"], ["x5"]), helper.make_node("Mod", ["x5", "f15"], ["fmod_x"], fmod=1),
        helper.make_node("Concat", ["asin", "acos", "atanh", "tan", "asinh", "acosh"], ["trig"], axis=0),
        helper.make_node("Concat", ["pow_px", "pow_2x"], ["pow"], axis=0),
        helper.make_node("Concat", ["mod_k3", "mod_km4", "fmod_k3"], ["imod"], axis=0),
    ]
    inits = [c("three", 3.0), c("one", 1.0), c("two", 2.0), c("five", 5.0), c("f15", 1.5),
             c("k3", 3, np.int64), c("km4", -4, np.int64)]
    g = helper.make_graph(
        nodes, "ops_math",
        [vi("x", [1, 6]), vi("p", [1, 6]), helper.make_tensor_value_info("k", TensorProto.INT64, [1, 6])],
        [vi("trig", [6, 6]), vi("pow", [2, 6]), helper.make_tensor_value_info("imod", TensorProto.INT64, [3, 6]), vi("fmod_x", [1, 6])],
        initializer=inits,
    )
    k = 4
    x = f32(rng.uniform(-0.9, 0.9, size=(k, 1, 6)))
    pp = f32(rng.uniform(0.5, 2.0, size=(k, 1, 6)))
    kk = rng.integers(-7, 8, size=(k, 1, 6))
    save("breadth/ops_math", g, 13, [x, pp, kk])


def ops_scatter():
    """GatherND, ScatterElements and ScatterND with constant and runtime indices (negative ones
    included), reduction none and add, GatherND with batch_dims."""
    rng = np.random.default_rng(2035)
    c = lambda name, v, dt=np.int64: numpy_helper.from_array(np.array(v, dtype=dt), name)
    i64 = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.INT64, shape)
    nodes = [
        helper.make_node("ScatterElements", ["x", "idx", "u"], ["se_rt"], axis=1),
        helper.make_node("ScatterElements", ["x", "idx", "u"], ["se_add_rt"], axis=1, reduction="add"),
        helper.make_node("ScatterElements", ["x", "cidx", "u"], ["se_c"], axis=1),
        helper.make_node("ScatterElements", ["x", "cdup", "u"], ["se_c_add"], axis=1, reduction="add"),
        helper.make_node("ScatterND", ["d2", "nd", "u2"], ["snd_rt"]),
        helper.make_node("ReduceSum", ["u", "ax1"], ["usum"], keepdims=0),
        helper.make_node("ScatterND", ["d2", "cnd", "usum"], ["snd_c"]),
        helper.make_node("ScatterND", ["d2", "nd", "u2"], ["snd_add_rt"], reduction="add"),
        helper.make_node("GatherND", ["d2", "nd"], ["gnd_rt"]),
        helper.make_node("GatherND", ["d2", "cgnd"], ["gnd_c"]),
        helper.make_node("Reshape", ["d2", "shape322"], ["d3"]),
        helper.make_node("GatherND", ["d3", "cb"], ["gnd_b"], batch_dims=1),
    ]
    inits = [c("cidx", [[1, 3], [0, -1]]), c("cdup", [[2, 2], [0, 4]]), c("ax1", [1]), c("cnd", [[0, 1], [2, -1]]),
             c("cgnd", [[1, -1], [0, 2]]), c("shape322", [3, 2, 2]), c("cb", [[[1]], [[0]], [[1]]])]
    g = helper.make_graph(
        nodes, "ops_scatter",
        [vi("x", [2, 5]), i64("idx", [2, 2]), vi("u", [2, 2]), vi("d2", [3, 4]), i64("nd", [2, 1]), vi("u2", [2, 4])],
        [vi("se_rt", [2, 5]), vi("se_add_rt", [2, 5]), vi("se_c", [2, 5]), vi("se_c_add", [2, 5]), vi("snd_rt", [3, 4]),
         vi("snd_c", [3, 4]), vi("snd_add_rt", [3, 4]), vi("gnd_rt", [2, 4]), vi("gnd_c", [2]), vi("gnd_b", [3, 1, 2])],
        initializer=inits,
    )
    k = 4
    x = f32(rng.uniform(-2, 2, size=(k, 2, 5)))
    idx = np.stack([np.stack([rng.choice([0, 1, 2, 3, -1], 2, replace=False) for _ in range(2)]) for _ in range(k)])
    u = f32(rng.uniform(-2, 2, size=(k, 2, 2)))
    d2 = f32(rng.uniform(-2, 2, size=(k, 3, 4)))
    nd = np.stack([rng.choice([0, 1, -1], 2, replace=False).reshape(2, 1) for _ in range(k)])
    u2 = f32(rng.uniform(-2, 2, size=(k, 2, 4)))
    save("breadth/ops_scatter", g, 16, [x, idx, u, d2, nd, u2])


def ops_more():
    """Mean, CumSum (exclusive, reverse, integer input), ReduceLogSum, LpNormalization (p 1, 2),
    Size and CastLike."""
    rng = np.random.default_rng(2036)
    c = lambda name, v, dt=np.float32: numpy_helper.from_array(np.array(v, dtype=dt), name)
    nodes = [
        helper.make_node("Mean", ["x", "c5", "x"], ["mean"]),
        helper.make_node("CumSum", ["x", "one"], ["cum1"]),
        helper.make_node("CumSum", ["x", "zero"], ["cum0"], exclusive=1, reverse=1),
        helper.make_node("CumSum", ["xi", "one"], ["cumi"]),
        helper.make_node("Abs", ["x"], ["ax"]), helper.make_node("Add", ["ax", "fone"], ["ax1"]),
        helper.make_node("ReduceLogSum", ["ax1", "axes1"], ["rls"], keepdims=1),
        helper.make_node("LpNormalization", ["x"], ["lp2"], axis=1, p=2),
        helper.make_node("LpNormalization", ["ax1"], ["lp1"], axis=0, p=1),
        helper.make_node("Size", ["x"], ["size"]), helper.make_node("CastLike", ["size", "x"], ["sizef"]),
        helper.make_node("CastLike", ["xi", "x"], ["xif"]), helper.make_node("Mul", ["xif", "sizef"], ["like"]),
    ]
    inits = [c("c5", [0.5, -1.0, 2.0, 0.0, 1.5]), c("one", 1, np.int64), c("zero", 0, np.int64), c("fone", 1.0),
             c("axes1", [1], np.int64)]
    g = helper.make_graph(
        nodes, "ops_more", [vi("x", [2, 5]), helper.make_tensor_value_info("xi", TensorProto.INT64, [1, 4])],
        [vi("mean", [2, 5]), vi("cum1", [2, 5]), vi("cum0", [2, 5]), helper.make_tensor_value_info("cumi", TensorProto.INT64, [1, 4]),
         vi("rls", [2, 1]), vi("lp2", [2, 5]), vi("lp1", [2, 5]), vi("like", [1, 4])],
        initializer=inits,
    )
    k = 4
    save("breadth/ops_more", g, 18, [f32(rng.uniform(-2, 2, size=(k, 2, 5))), rng.integers(-5, 6, size=(k, 1, 4))])


def bad_models():
    d = os.path.join(ROOT, "bad")
    os.makedirs(d, exist_ok=True)
    g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Det", ["r"], ["y"], name="my_det")],
        "unsupported", [vi("x", [4, 4])], [vi("y", [])],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, os.path.join(d, "unsupported_op.onnx"))
    with open(os.path.join(d, "malformed.onnx"), "wb") as fh:
        fh.write(b"\x0a\xff\xff\xff\xff\x0fthis is not an onnx model")
    with open(os.path.join(d, "truncated.onnx"), "wb") as fh:
        fh.write(open(os.path.join(ROOT, "digits_mlp", "model.onnx"), "rb").read()[:300])
    print("bad models written")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1:  # only the named models, e.g. `python3 models/generate.py digits_softmax`
        for name in sys.argv[1:]:
            globals()[name]()
        sys.exit(0)
    digits_mlp()
    digits_softmax()
    digits_tournament()
    digits_cnn()
    logreg_sigmoid()
    convnet_bn()
    lenet()
    ops_elementwise()
    ops_activations()
    ops_softmax()
    ops_conv()
    ops_pool()
    ops_norm()
    ops_shape()
    ops_reduce()
    ops_linear()
    ops_legacy()
    ops_compare()
    tabular()
    bad_models()
    ops_unary()
    tabular_small()
    recurrent()
    legacy_opsets()
    ops_select()
    ops_construct()
    ops_attention()
    ops_resize()
    svm_models()
    tree_modes()
    ops_int_inputs()
    ops_math()
    ops_scatter()
    ops_more()
