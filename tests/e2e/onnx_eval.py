#!/usr/bin/python3
"""Checks an ONNX model written by `recc export` and runs it on a data file.

  onnx_eval.py MODEL.onnx DATA.csv SCORES.csv [--tol 1e-5]

1. onnx.checker.check_model(MODEL, full_check=True): the model is valid ONNX
   and its shapes infer (Debian's python3-onnx, 1.12, has no runtime).
2. An evaluator of its own, written from the ONNX operator specification
   (opset 17), runs the graph on DATA's rows: numpy, in double precision, for
   exactly the ops recc emits; any other op is an error, not a guess.
3. Its outputs are compared with SCORES (`recc predict --out`): every value
   must agree within TOL, absolute (probabilities and scores of these models
   are O(1); the measure is max |onnx - recc|, printed).

DATA's columns become the model's inputs as the `recc.inputs` metadata of the
model says: ids as integers (multi-valued cells '|'-separated, padded with -1),
dense values as numbers (the transform is in the graph). Integer ids only:
hashed or vocabulary ids would need recc's reader, which is the point of
handing the model ids.
"""
import csv
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def unsqueeze(x, axes):
    rank = x.ndim + len(axes)
    for a in sorted(int(a) % rank for a in axes):
        x = np.expand_dims(x, a)
    return x


def reduce_axes(node, inputs, at):
    if node.op_type == "ReduceSum":
        return tuple(int(a) for a in inputs[1]) if len(inputs) > 1 else None
    return tuple(at["axes"]) if "axes" in at else None


def reshape(x, shape):
    shape = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(shape)


def onnx_slice(x, starts, ends, axes):
    index = [slice(None)] * x.ndim
    for s, e, a in zip(starts, ends, axes):
        index[int(a)] = slice(int(s), int(e))
    return x[tuple(index)]


def onnx_pad(x, pads):
    r = x.ndim
    return np.pad(x, [(int(pads[i]), int(pads[r + i])) for i in range(r)])


CAST = {onnx.TensorProto.FLOAT: np.float64, onnx.TensorProto.INT64: np.int64,
        onnx.TensorProto.BOOL: np.bool_}

OPS = {
    "Identity": lambda i, a: i[0],
    "Neg": lambda i, a: -i[0],
    "Abs": lambda i, a: np.abs(i[0]),
    "Relu": lambda i, a: np.maximum(i[0], 0),
    "Sigmoid": lambda i, a: 1 / (1 + np.exp(-i[0])),
    "Tanh": lambda i, a: np.tanh(i[0]),
    "Exp": lambda i, a: np.exp(i[0]),
    "Log": lambda i, a: np.log(i[0]),
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": lambda i, a: i[0] / i[1],
    "Max": lambda i, a: np.maximum(i[0], i[1]),
    "Clip": lambda i, a: np.minimum(np.maximum(i[0], i[1]), i[2]),
    "Greater": lambda i, a: i[0] > i[1],
    "GreaterOrEqual": lambda i, a: i[0] >= i[1],
    "Less": lambda i, a: i[0] < i[1],
    "Equal": lambda i, a: i[0] == i[1],
    "And": lambda i, a: np.logical_and(i[0], i[1]),
    "Where": lambda i, a: np.where(i[0], i[1], i[2]),
    # Cast to an integer truncates toward zero (C's conversion), as astype does.
    "Cast": lambda i, a: i[0].astype(CAST[a["to"]]),
    "MatMul": lambda i, a: np.matmul(i[0], i[1]),
    "Transpose": lambda i, a: np.transpose(i[0], a.get("perm")),
    "Concat": lambda i, a: np.concatenate(i, axis=a["axis"]),
    "Slice": lambda i, a: onnx_slice(i[0], i[1], i[2], i[3]),
    "Pad": lambda i, a: onnx_pad(i[0], i[1]),
    "Reshape": lambda i, a: reshape(i[0], i[1]),
    "Unsqueeze": lambda i, a: unsqueeze(i[0], i[1]),
    "Shape": lambda i, a: np.array(i[0].shape, dtype=np.int64),
    "Expand": lambda i, a: i[0] * np.ones(tuple(int(d) for d in i[1]), dtype=i[0].dtype),
    "Gather": lambda i, a: np.take(i[0], i[1], axis=a.get("axis", 0)),
}
REDUCE = {"ReduceSum": np.sum, "ReduceMean": np.mean, "ReduceMax": np.max}


def run_graph(model, feeds):
    env = dict(feeds)
    for t in model.graph.initializer:
        v = numpy_helper.to_array(t)
        env[t.name] = v.astype(np.float64) if v.dtype == np.float32 else v
    for node in model.graph.node:
        ins = [env[n] for n in node.input]
        at = attrs_of(node)
        if node.op_type in REDUCE:
            out = REDUCE[node.op_type](ins[0], axis=reduce_axes(node, ins, at),
                                       keepdims=bool(at.get("keepdims", 1)))
        elif node.op_type in OPS:
            out = OPS[node.op_type](ins, at)
        else:
            sys.exit(f"FAIL: op {node.op_type} ({node.name}) is not one recc emits")
        env[node.output[0]] = np.asarray(out)
    return {o.name: env[o.name] for o in model.graph.output}


def cell(row, column, spec, r):
    text = row[column].strip()
    if text == "" and "na" in spec:
        return str(spec["na"])
    if text == "" and spec["kind"] != "ids":
        sys.exit(f"FAIL: row {r}: empty cell in column {column}")
    return text


def feeds_of(model, data_path):
    specs = json.loads({p.key: p.value for p in model.metadata_props}["recc.inputs"])
    with open(data_path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t" if data_path.endswith(".tsv") else ","))
    feeds = {}
    for spec in specs:
        col, kind = spec["column"], spec["kind"]
        if kind != "dense" and spec["lookup"] != "integer":
            sys.exit(f"FAIL: input {spec['name']}: {spec['lookup']} ids need recc's reader")
        if kind == "dense":
            feeds[spec["name"]] = np.array([float(cell(x, col, spec, r)) for r, x in enumerate(rows)])
        elif kind == "id":
            feeds[spec["name"]] = np.array([int(float(cell(x, col, spec, r)))
                                            for r, x in enumerate(rows)], dtype=np.int64)
        else:
            if len(spec["shape"]) != 2:
                sys.exit(f"FAIL: input {spec['name']}: bags of words are not read here")
            width = spec["shape"][1]
            ids = np.full((len(rows), width), -1, dtype=np.int64)
            for r, x in enumerate(rows):
                text = cell(x, col, spec, r)
                got = [int(t) for t in text.split("|")][:width] if text else []
                ids[r, :len(got)] = got
            feeds[spec["name"]] = ids
    return feeds, len(rows)


def main():
    args = sys.argv[1:]
    tol = 1e-5
    if "--tol" in args:
        k = args.index("--tol")
        tol = float(args[k + 1])
        del args[k:k + 2]
    model_path, data_path, scores_path = args
    onnx.checker.check_model(model_path, full_check=True)
    model = onnx.load(model_path)
    feeds, rows = feeds_of(model, data_path)
    with np.errstate(over="ignore"):  # exp overflowing to inf is Sigmoid's 0, not an error
        outputs = run_graph(model, feeds)
    with open(scores_path, newline="") as f:
        scores = list(csv.DictReader(f))
    if len(scores) != rows:
        sys.exit(f"FAIL: {scores_path} has {len(scores)} rows, the data {rows}")
    worst = 0.0
    for name, value in outputs.items():
        value = value.reshape(rows, -1)
        cols = [name] if value.shape[1] == 1 else [f"{name}_{k}" for k in range(value.shape[1])]
        want = np.array([[float(s[c]) for c in cols] for s in scores])
        diff = float(np.max(np.abs(value - want)))
        print(f"{name}: {value.shape[1]} per row, max |onnx - recc| {diff:.3g}")
        worst = max(worst, diff)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{len(model.graph.node)} nodes, ops: {' '.join(ops)}")
    if not worst <= tol:
        sys.exit(f"FAIL: ONNX and recc predict differ by {worst:.3g} > {tol}")
    print(f"ok: {rows} rows agree within {tol} (absolute)")


if __name__ == "__main__":
    main()
