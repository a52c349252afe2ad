#!/usr/bin/python3
"""bench/sarnet_data.py: SAR-Net's input columns (models/sarnet.rec) as numpy arrays.

Reads the SAR-Net generator's CSV (or any CSV with models/sarnet.rec's columns: multi-valued ids
'|'-separated, truncated to 50 and padded with -1), or makes random columns the way
`recc bench` does (uniform ids over each vocabulary, every behaviour slot filled, N(0,1) dense
values, 10% positive labels), and writes such columns as a CSV that `recc train` reads:

    /usr/bin/python3 bench/sarnet_data.py --out /tmp/sarnet_random.csv --rows 200000

Only numpy is needed (no torch), so the side-by-side script can write its data with it.
"""

import argparse
import sys
import time

import numpy as np

SEQ_LEN = 50
# column: vocabulary, as models/sarnet.rec declares them
ID_FIELDS = {"scenario": 20, "scn_id": 400, "scn_type": 16, "scn_time": 16, "user_id": 1000000,
             "country": 200, "item_id": 1000000, "category": 5000, "dest": 2000}
SEQ_FIELDS = {"seq_item": 1000000, "seq_cat": 5000, "seq_dest": 2000, "seq_scn": 400,
              "seq_type": 16, "seq_time": 16}
DENSE_FIELDS = ["item_score", "fc"]
LABEL = "click"
COLUMNS = list(ID_FIELDS) + ["item_score"] + list(SEQ_FIELDS) + ["fc", LABEL]


def random_columns(rows, seed=7):
    """Columns like recc bench's synthetic data; fc (a loss weight) drawn from U(0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    cols = {n: rng.integers(0, v, rows, dtype=np.int64) for n, v in ID_FIELDS.items()}
    cols.update({n: rng.integers(0, v, (rows, SEQ_LEN), dtype=np.int64)
                 for n, v in SEQ_FIELDS.items()})
    cols["item_score"] = rng.standard_normal(rows).astype(np.float32)
    cols["fc"] = rng.uniform(0.5, 1.5, rows).astype(np.float32)
    cols[LABEL] = (rng.random(rows) < 0.1).astype(np.float32)
    return cols


def _seq(fields):
    out = np.full((len(fields), SEQ_LEN), -1, dtype=np.int64)
    for r, text in enumerate(fields):
        ids = text.strip().strip('"').split("|")[:SEQ_LEN] if text.strip() else []
        out[r, :len(ids)] = [int(x) for x in ids]
    return out


def read_csv(path, max_rows=0, need_label=True):
    """The model's columns of a CSV as numpy arrays; exits with a message naming the file, the
    line and the column on bad input."""
    t = time.perf_counter()
    with open(path) as f:
        header = [h.strip() for h in f.readline().strip().split(",")]
        missing = [c for c in COLUMNS if c not in header and (need_label or c != LABEL)]
        if missing:
            sys.exit(f"{path}: missing columns {missing}; header has: {', '.join(header)}")
        lines = []
        for line in f:
            if max_rows and len(lines) == max_rows:
                break
            lines.append(line.rstrip("\n").split(","))
    col = {name: i for i, name in enumerate(header)}
    for n, parts in enumerate(lines):
        if len(parts) != len(header):
            sys.exit(f"{path}:{n + 2}: expected {len(header)} fields as in the header, "
                     f"found {len(parts)}")
    by_col = list(zip(*lines)) if lines else [()] * len(header)
    cols = {}
    for name in COLUMNS:
        if name not in col:
            continue
        raw = by_col[col[name]]
        try:
            if name in SEQ_FIELDS:
                cols[name] = _seq(raw)
            elif name in ID_FIELDS:
                cols[name] = np.array(raw, dtype=np.float64).astype(np.int64)
            else:
                cols[name] = np.array(raw, dtype=np.float32)
        except ValueError as e:
            sys.exit(f"{path}: column '{name}': {e}")
        vocab = ID_FIELDS.get(name) or SEQ_FIELDS.get(name)
        if vocab and (cols[name].max(initial=-1) >= vocab or cols[name].min(initial=0) < -1
                      or (name in ID_FIELDS and cols[name].min(initial=0) < 0)):
            sys.exit(f"{path}: column '{name}' has ids outside [0, {vocab})")
    print(f"sarnet_data: read {len(lines)} rows from {path} in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    return cols


def write_csv(path, cols):
    rows = len(cols[LABEL])
    with open(path, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        text = {}
        for name in COLUMNS:
            v = cols[name]
            if name in SEQ_FIELDS:
                text[name] = ["|".join(map(str, r)) for r in v.tolist()]
            elif name in ID_FIELDS:
                text[name] = [str(x) for x in v.tolist()]
            else:
                text[name] = [f"{x:.6g}" for x in v.tolist()]
        for r in range(rows):
            f.write(",".join(text[name][r] for name in COLUMNS) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--rows", type=int, default=200000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.rows < 1:
        p.error("--rows must be at least 1")
    write_csv(args.out, random_columns(args.rows, args.seed))


if __name__ == "__main__":
    main()
