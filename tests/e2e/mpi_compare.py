#!/usr/bin/env python3
"""Compares a run under mpirun with one process, within a relative tolerance.

  mpi_compare.py losses A.jsonl B.jsonl TOL   train losses (--log lines), step by step
  mpi_compare.py metrics A.json B.json TOL    the metrics of two --metrics-json files
  mpi_compare.py ckpt A.safetensors B.safetensors TOL   every float32 tensor

Prints the largest relative difference and where; exits 1 above TOL.
Standard library only (the test machines need no numpy)."""
import json
import struct
import sys

from ckpt_compare import entries  # the same directory: the safetensors layout


def relative(x, y):
    return abs(x - y) / max(abs(x), abs(y), 1e-3)


def losses(path):
    rows = [json.loads(line) for line in open(path)]
    return [r["loss"] for r in rows if r.get("kind") == "train"]


def tensors(path):
    """The float32 tensors of a checkpoint, as tuples of floats."""
    return {name: struct.unpack("<%df" % (len(raw) // 4), raw)
            for name, (dtype, raw) in entries(path).items() if dtype == "F32"}


def pairs(kind, a, b):
    if kind == "losses":
        la, lb = losses(a), losses(b)
        if len(la) != len(lb) or not la:
            sys.exit(f"FAIL: {len(la)} and {len(lb)} train steps logged")
        return [(f"step {i + 1}", x, y) for i, (x, y) in enumerate(zip(la, lb))]
    if kind == "metrics":
        ma, mb = json.load(open(a))["metrics"], json.load(open(b))["metrics"]
        if ma.keys() != mb.keys():
            sys.exit(f"FAIL: metrics {sorted(ma)} and {sorted(mb)}")
        return [(k, ma[k], mb[k]) for k in ma]
    ta, tb = tensors(a), tensors(b)
    if ta.keys() != tb.keys():
        sys.exit(f"FAIL: tensors {sorted(ta)} and {sorted(tb)}")
    return [(k, x, y) for k in ta for x, y in zip(ta[k], tb[k])]


def main():
    kind, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    diff, where = max((relative(x, y), w) for w, x, y in pairs(kind, a, b))
    verdict = "ok" if diff <= tol else "FAIL"
    print(f"{verdict}: {kind} of {b} against {a}: largest relative difference "
          f"{diff:.3g} ({where}), tolerance {tol:g}")
    sys.exit(0 if diff <= tol else 1)


if __name__ == "__main__":
    main()
