#!/usr/bin/python3
"""bench/openblas_probe.py: how fast and how correct OpenBLAS's SGEMM is under one core type.

OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so torch_common.py runs this script once per
candidate core type, each in its own process with the variable set (or unset, to let OpenBLAS
detect the CPU), and picks the fastest candidate that computes correctly. It uses numpy, whose
float32 matmul calls the same OpenBLAS (Debian's libblas.so.3) that torch calls, and loads in a
tenth of torch's time. Prints one JSON object:

    {"coretype": NAME or "detect", "core": what OpenBLAS says it runs, "library": path,
     "gflops": best 1024^3 SGEMM rate, "max_rel_err": worst error, "ok": bool}

The error is |float32 result - float64 product| / (|a|·|b|), worst element, over an odd-shaped
product (the kernels' edge cases) and 16 rows of the timed 1024^3 product. The float64 reference
is numpy's einsum without BLAS, so a broken core type cannot corrupt its own reference.
"""

import argparse
import ctypes
import json
import os
import time

import numpy as np

TOLERANCE = 1e-5  # float32 accumulation over k <= 1024 stays far below this


def relative_error(got, a, b):
    """Worst |got - a·b| / (|a|·|b|), with the products in float64 without BLAS."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = np.einsum("ik,kj->ij", a64, b64, optimize=False)
    scale = np.einsum("ik,kj->ij", np.abs(a64), np.abs(b64), optimize=False)
    return float((np.abs(got.astype(np.float64) - want) / np.maximum(scale, 1e-30)).max())


def openblas_core():
    """The core name and library of the OpenBLAS mapped into this process (None if none)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.lower()})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode(), path
        except (OSError, AttributeError):
            continue
    return None, paths[0] if paths else None


def probe(n, reps):
    rng = np.random.default_rng(1)
    a = (rng.random((301, 517)) - 0.5).astype(np.float32)
    b = (rng.random((517, 263)) - 0.5).astype(np.float32)
    err = relative_error(a @ b, a, b)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    for _ in range(2):
        np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    err = max(err, relative_error(c[:16], a[:16], b))
    return 2.0 * n ** 3 / best / 1e9, err


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1024, help="timed SGEMM is n x n x n")
    p.add_argument("--reps", type=int, default=5, help="timed SGEMMs (best counts)")
    args = p.parse_args()
    gflops, err = probe(args.n, args.reps)
    core, library = openblas_core()
    print(json.dumps({"coretype": os.environ.get("OPENBLAS_CORETYPE") or "detect",
                      "core": core, "library": library, "gflops": round(gflops, 1),
                      "max_rel_err": err, "ok": bool(err < TOLERANCE)}))


if __name__ == "__main__":
    main()
