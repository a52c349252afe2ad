#!/usr/bin/python3
"""bench/zeus_data.py: ZEUS's input columns (models/zeus.rec) as numpy arrays.

Reads gen_zeus's CSVs (examples/zeus/README.md: id lists '|'-separated, a bag of word ids per
element ';'-separated inside it), or makes random columns the way `recc bench` does (uniform
ids over each vocabulary, every slot filled, N(0,1) dense values, 10% positive labels).

The 10^8-row query and product tables cannot be allocated densely in PyTorch on this machine
(12.8 GB each), so the ids a run reads are renumbered 1..n before training, untimed: what a
PyTorch user would do without a dynamic-embedding library. Id 0 is padding everywhere.

Only numpy is needed (no torch).
"""

import sys
import time

import numpy as np

SEQ_LEN, WORDS, TQ_WORDS = 10, 8, 8
IDS = {"tq_id": 100000000, "tq_cat": 50000, "age": 120, "gender": 3, "scenario": 10}
LISTS = {"sq_id": 100000000, "sq_cat": 50000, "sc_id": 100000000, "sc_cat": 50000,
         "sc_brand": 50000}
BAGS = {"sq_ws": 1000000, "sc_ws": 1000000}
DENSE = ["q_ctr", "q_clicks", "power", "match"]
GLOBAL = {"query": ["tq_id", "sq_id"], "product": ["sc_id"]}   # the 10^8-row tables


def _vocab(name):
    return IDS.get(name) or LISTS.get(name) or BAGS.get(name) or (1000000 if name == "tq_ws" else 0)


def random_columns(rows, label, seed=7):
    rng = np.random.default_rng(seed)
    cols = {n: rng.integers(0, v, rows) + 1 for n, v in IDS.items()}
    cols["tq_ws"] = rng.integers(0, 1000000, (rows, TQ_WORDS)) + 1
    cols.update({n: rng.integers(0, v, (rows, SEQ_LEN)) + 1 for n, v in LISTS.items()})
    cols.update({n: rng.integers(0, v, (rows, SEQ_LEN, WORDS)) + 1 for n, v in BAGS.items()})
    cols.update({n: rng.standard_normal(rows).astype(np.float32) for n in DENSE})
    cols[label] = (rng.random(rows) < 0.1).astype(np.float32)
    return cols


def _fail(path, line, column, why):
    sys.exit(f"{path}:{line}: column '{column}': {why}")


def _parse(path, line, name, text, shape):
    """One cell as ids + 1 (0 = padding) in an array of `shape`: () a single id, (L,) a list,
    (L, W) a list of bags."""
    out = np.zeros(shape, dtype=np.int64)
    vocab = _vocab(name)
    elems = text.split("|") if text else []
    if not shape:
        elems = [text]
    for i, e in enumerate(elems[: (shape[0] if shape else 1)]):
        words = e.split(";") if len(shape) == 2 else [e]
        for j, w in enumerate(words[: (shape[1] if len(shape) == 2 else 1)]):
            try:
                v = int(w)
            except ValueError:
                _fail(path, line, name, f"'{w}' is not an id")
            if not 0 <= v < vocab:
                _fail(path, line, name, f"id {v} outside [0, {vocab})")
            if not shape:
                out[()] = v + 1
            elif len(shape) == 1:
                out[i] = v + 1
            else:
                out[i, j] = v + 1
    return out


def read_csv(path, label, max_rows=0):
    """The model's columns of one of gen_zeus's files (pointwise rows)."""
    t = time.perf_counter()
    shapes = {**{n: () for n in IDS}, "tq_ws": (TQ_WORDS,), **{n: (SEQ_LEN,) for n in LISTS},
              **{n: (SEQ_LEN, WORDS) for n in BAGS}}
    with open(path) as f:
        header = f.readline().strip().split(",")
        need = list(shapes) + DENSE + [label]
        missing = [c for c in need if c not in header]
        if missing:
            sys.exit(f"{path}: missing columns {missing}; header has: {', '.join(header)}")
        at = {c: header.index(c) for c in need}
        cols = {c: [] for c in need}
        for n, line in enumerate(f):
            if max_rows and n == max_rows:
                break
            parts = line.rstrip("\n").split(",")
            if len(parts) != len(header):
                sys.exit(f"{path}:{n + 2}: expected {len(header)} fields as in the header, "
                         f"found {len(parts)}")
            for c, shape in shapes.items():
                cols[c].append(_parse(path, n + 2, c, parts[at[c]], shape))
            for c in DENSE + [label]:
                cols[c].append(float(parts[at[c]]))
    out = {c: np.stack(v) if c in shapes else np.array(v, dtype=np.float32) for c, v in cols.items()}
    print(f"zeus_data: read {len(out[label])} rows from {path} in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    return out


def compact_global_ids(cols):
    """Renumbers the ids of each 10^8-row table to 1..n (0 stays padding). Returns the row
    count each table needs."""
    rows = {}
    for table, names in GLOBAL.items():
        present = np.unique(np.concatenate([cols[n].ravel() for n in names]))
        present = present[present > 0]
        for n in names:
            flat = cols[n].ravel()
            mapped = np.searchsorted(present, flat) + 1
            cols[n] = np.where(flat > 0, mapped, 0).reshape(cols[n].shape)
        rows[table] = len(present) + 1
    return rows
