"""Recomputes the binary metrics of tests/e2e/inputs/funnel_metrics.rec from
`recc predict --keep user_id,gender,click,buy` scores, in plain Python, and
compares them with `recc eval --metrics-json`: auc (ties half), the three gauc
reductions, logloss, ne, calibration, ctr, pctr, the `where click` filter and
the by-gender breakdowns.
Usage: check_metrics.py SCORES_CSV METRICS_JSON"""
import csv
import json
import math
import sys
from collections import defaultdict


def auc(rows):
    """Mann-Whitney U over (score, label) pairs, ties counting half; None if one class."""
    pos = [s for s, y in rows if y > 0.5]
    neg = [s for s, y in rows if y <= 0.5]
    if not pos or not neg:
        return None
    pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return pairs / (len(pos) * len(neg))


def logloss(rows):
    clamp = lambda p: min(max(p, 1e-7), 1 - 1e-7)
    return -sum(y * math.log(clamp(p)) + (1 - y) * math.log(1 - clamp(p)) for p, y in rows) / len(rows)


def ne(rows):
    base = sum(y for _, y in rows) / len(rows)
    return logloss(rows) / -(base * math.log(base) + (1 - base) * math.log(1 - base))


def gauc(rows, groups, reduce):
    by = defaultdict(list)
    for r, g in zip(rows, groups):
        by[g].append(r)
    num = den = 0.0
    for members in by.values():
        a = auc(members)
        if a is None:
            continue  # one-class groups carry no weight
        w = {"mean": 1, "rows": len(members), "pos": sum(y > 0.5 for _, y in members)}[reduce]
        num += w * a
        den += w
    return num / den


def main(scores_path, metrics_path):
    with open(scores_path) as f:
        data = list(csv.DictReader(f))
    m = json.load(open(metrics_path))
    got = m["metrics"]
    ctr = [(float(r["p_ctr"]), float(r["click"])) for r in data]
    users = [r["user_id"] for r in data]
    clicked = [(float(r["p_cvr"]), float(r["buy"])) for r in data if float(r["click"]) > 0.5]
    want = {
        "ctr_auc": auc(ctr),
        "ctr_gauc": gauc(ctr, users, "mean"),
        "ctr_gauc_rows": gauc(ctr, users, "rows"),
        "ctr_gauc_pos": gauc(ctr, users, "pos"),
        "ctr_ll": logloss(ctr),
        "ctr_ne": ne(ctr),
        "ctr_cal": sum(p for p, _ in ctr) / sum(y for _, y in ctr),
        "click_rate": sum(y for _, y in ctr) / len(ctr),
        "pred_rate": sum(p for p, _ in ctr) / len(ctr),
        "cvr_auc": auc(clicked),
        "buy_rate": sum(y for _, y in clicked) / len(clicked),
    }
    failed = 0
    for name, value in want.items():
        ok = got.get(name) is not None and abs(got[name] - value) <= 1e-6 * max(1.0, abs(value))
        print("%s %-14s recc %.8f  python %.8f" % ("ok  " if ok else "FAIL", name, got.get(name) or float("nan"), value))
        failed += not ok
    # The breakdowns: each gender's value over its own rows.
    for name, fn in (("ctr_auc", auc), ("ctr_cal", lambda rs: sum(p for p, _ in rs) / sum(y for _, y in rs))):
        table = m["by_group"][name]
        for gender, entry in table["by"].items():
            rows = [r for r, g in zip(ctr, (d["gender"] for d in data)) if g == gender]
            value = fn(rows)
            ok = entry["rows"] == len(rows) and abs(entry["value"] - value) <= 1e-6
            print("%s %s gender %s: %d rows, recc %.6f  python %.6f" % ("ok  " if ok else "FAIL", name, gender, len(rows), entry["value"], value))
            failed += not ok
    expect_outputs = {"p_ctr": sorted(n for n in want if n.startswith(("ctr", "click", "pred"))),
                      "p_cvr": ["buy_rate", "cvr_auc"]}
    if m["by_output"] != expect_outputs:
        print("FAIL by_output", m["by_output"])
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
