#!/usr/bin/python3
"""bench/side_by_side.py: the summary of an interleaved recc / PyTorch peer run.

The run_PAPER.sh scripts run `recc bench --json OUT/recc_I.json` and the peer
`--json OUT/torch_I.json` for I = 1..REPEATS, alternating, so that a change in the machine's
load hits both. This prints the median and range of every figure and of the per-repeat ratios
(recc_I / peer_I) against the issue's targets, and (with --train-log) `recc train`'s epoch rate
on a CSV against the bench's step rate. --kind retrieval reads run_retrieval.sh's files
(`recc bench-retrieval` and torch_retrieval.py) instead. --json-summary OUT writes the same
figures as JSON (bench/run_all.py builds its table of every model from these files).

    side_by_side.py --out DIR --repeats N --title NAME [--kind model|retrieval]
                    [--train-target X] [--infer-target X] [--train-log FILE]
                    [--json-summary OUT]
"""

import argparse
import json
import re
import statistics
import sys

LOADED = 0.05  # other processes' CPU share above which a measurement is flagged


def stat(values):
    """Median and range of a figure over the repeats (None where a repeat lacks it)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


def ratios(a, b):
    return [x / y if x is not None and y else None for x, y in zip(a, b)]


def load_runs(out, repeats):
    recc = [json.load(open(f"{out}/recc_{i}.json")) for i in range(1, repeats + 1)]
    torch = [json.load(open(f"{out}/torch_{i}.json")) for i in range(1, repeats + 1)]
    return recc, torch


def peer_setup(t0):
    """What every summary says about the peer's BLAS: the core it ran and how it was chosen."""
    blas = t0.get("blas", {})
    choice = blas.get("coretype_choice", {})
    return {"batch": t0.get("batch"), "threads": t0.get("threads"),
            "openblas_core": (blas.get("openblas") or {}).get("core"),
            "coretype_chosen": choice.get("chosen"),
            "coretype_probes": [{k: p.get(k) for k in ("coretype", "core", "gflops", "ok")}
                                for p in choice.get("probes", [])]}


def summarize_models(recc_files, torch, train_target=None, infer_target=None):
    """recc bench (first backend of each file) against a model peer, repeat by repeat."""
    recc = [next(iter(f["results"])) for f in recc_files]
    for r in recc:
        if "error" in r:
            raise ValueError(f"recc bench failed: {r['error']}")
    sgemm = [t["sgemm_gflops"] for t in torch]
    mflop_fwd = torch[0]["dense_mflop_per_sample_forward"]  # the peer's count applies to both

    def phase(recc_key, peer_key, flop_factor, compile_key, target):
        if not all(recc_key in r for r in recc):
            return None
        rv, pv = [r[recc_key] for r in recc], [t[peer_key] for t in torch]
        frac = lambda v: [x * flop_factor * mflop_fwd / 1e3 / s for x, s in zip(v, sgemm)]
        return {"recc": stat(rv), "peer": stat(pv), "ratio": stat(ratios(rv, pv)),
                "recc_sgemm_fraction": stat(frac(rv)), "peer_sgemm_fraction": stat(frac(pv)),
                "compile_s": stat([r.get(compile_key) for r in recc]), "target": target}

    rss_r, rss_p = [r["peak_rss_mb"] for r in recc], [t["peak_rss_mib"] for t in torch]
    loads = [max(t.get(k, 0) for k in ("other_load_train", "other_load_infer", "other_load_sgemm"))
             for t in torch]
    return {"kind": "model", "repeats": len(recc), **peer_setup(torch[0]),
            "dense_mflop_per_sample_forward": mflop_fwd,
            "train": phase("train_samples_per_second", "train_samples_per_s", 3,
                           "compile_seconds", train_target),
            "infer": phase("infer_samples_per_second", "infer_samples_per_s", 1,
                           "infer_compile_seconds", infer_target),
            "rss": {"recc_mib": stat(rss_r), "peer_mib": stat(rss_p),
                    "ratio": stat(ratios(rss_r, rss_p))},
            "sgemm_gflops": stat(sgemm), "other_load": stat(loads)}


def summarize_retrieval(recc, torch, target=None):
    """recc bench-retrieval (OpenBLAS score GEMMs) against torch matmul + topk: users/s."""
    users = recc[0]["users"]
    rs = [r["topk"]["openblas"]["median_seconds"] for r in recc]
    ps = [t["median_seconds"] for t in torch]
    sgemm = [t["sgemm_gflops"] for t in torch]
    rate = lambda s: [users / x for x in s]
    frac = lambda runs, g: [g(x) / s for x, s in zip(runs, sgemm)]
    infer = {"recc": stat(rate(rs)), "peer": stat(rate(ps)), "ratio": stat(ratios(ps, rs)),
             "recc_sgemm_fraction": stat(frac(recc, lambda r: r["topk"]["openblas"]["gflops"])),
             "peer_sgemm_fraction": stat(frac(torch, lambda t: t["gflops"])),
             "compile_s": None, "target": target,
             "recc_gemm_only_gflops": stat([r["gemm_only"]["openblas"]["gflops"] for r in recc]),
             "recc_sgemm_gflops": stat([r["sgemm_gflops"] for r in recc])}
    return {"kind": "retrieval", "repeats": len(recc), **peer_setup(torch[0]),
            "items": recc[0]["items"], "users": users, "dim": recc[0]["dim"], "k": recc[0]["k"],
            "recc_openblas": recc[0].get("openblas"), "train": None, "infer": infer,
            "rss": {"recc_mib": None, "peer_mib": stat([t["peak_rss_mib"] for t in torch]),
                    "ratio": None},
            "sgemm_gflops": stat(sgemm), "other_load": stat([t["other_load"] for t in torch])}


def epoch_rate(path):
    """Samples/s of the last epoch summary in a `recc train` log."""
    text = open(path).read()
    m = re.findall(r"epoch \d+/\d+: (\d+) steps, loss [^,]+, ([\d.]+)([kM]?) samples/s", text)
    if not m:
        sys.exit(f"no epoch summary in {path}:\n{text[-2000:]}")
    steps, value, unit = m[-1]
    return float(value) * {"": 1, "k": 1e3, "M": 1e6}[unit], steps


# ---------------------------------------------------------------------------------------------
# Printing.

def row(name, s, unit="", fmt="{:,.0f}"):
    if s is None:
        return
    print(f"  {name:<34}{fmt.format(s['median']):>12} {unit:<10} range {fmt.format(s['min'])} .. "
          f"{fmt.format(s['max'])}")


def ratio_line(name, s, target, sense=">=", times="x"):
    goal = f"(target {sense} {target:g})" if target else ""
    print(f"  {name:<34}{s['median']:6.2f}{times}  range {s['min']:.2f} .. {s['max']:.2f}  {goal}")


def print_models(s, title):
    tr, inf = s["train"], s["infer"]
    print(f"\n{title}, batch {s['batch']}, {s['threads']} threads, {s['repeats']} interleaved "
          f"repeat{'s' if s['repeats'] != 1 else ''} (median, range); OpenBLAS core "
          f"{s['openblas_core']}")
    print("recc (MLIR backend, `recc bench`):")
    row("training", tr["recc"], "samples/s")
    row("inference (eval step)", inf and inf["recc"], "samples/s")
    row("peak RSS", s["rss"]["recc_mib"], "MB")
    row("JIT compile, train step", tr["compile_s"], "s", "{:.1f}")
    row("JIT compile, eval step", inf and inf["compile_s"], "s", "{:.1f}")
    print("pytorch eager peer:")
    row("training", tr["peer"], "samples/s")
    row("inference", (inf or {}).get("peer"), "samples/s")
    row("peak RSS", s["rss"]["peer_mib"], "MiB")
    row("SGEMM 1024^3 (torch.mm)", s["sgemm_gflops"], "GFLOP/s", "{:.1f}")
    row("other processes' CPU share", s["other_load"], "", "{:.2f}")
    print("\nratios (median of the per-repeat ratios, range):")
    ratio_line("training   recc / peer", tr["ratio"], tr["target"])
    if inf:
        ratio_line("inference  recc / peer", inf["ratio"], inf["target"])
    ratio_line("peak RSS   recc / peer", s["rss"]["ratio"], 1, "<=", " ")
    print(f"  recc training GFLOP/s / SGEMM     {tr['recc_sgemm_fraction']['median']:6.2f}   "
          f"({s['dense_mflop_per_sample_forward'] * 3:.2f} MFLOP/sample)")
    print(f"  peer training GFLOP/s / SGEMM     {tr['peer_sgemm_fraction']['median']:6.2f}")


def print_retrieval(s):
    inf = s["infer"]
    print(f"\ntop-{s['k']} of {s['items']} items for {s['users']} users, d = {s['dim']}, "
          f"{s['threads']} threads; recc: {s['recc_openblas']}; peer OpenBLAS core "
          f"{s['openblas_core']}; {s['repeats']} interleaved runs each (median, range)")
    row("recc top-k", inf["recc"], "users/s")
    row("recc GEMMs alone (same blocks)", inf["recc_gemm_only_gflops"], "GFLOP/s", "{:.1f}")
    row("recc SGEMM 1024^3 (its OpenBLAS)", inf["recc_sgemm_gflops"], "GFLOP/s", "{:.1f}")
    row("pytorch matmul + topk", inf["peer"], "users/s")
    row("SGEMM 1024^3 (torch.mm)", s["sgemm_gflops"], "GFLOP/s", "{:.1f}")
    row("other processes' CPU share", s["other_load"], "", "{:.2f}")
    print()
    ratio_line("recc / pytorch speed", inf["ratio"], inf["target"])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--kind", choices=["model", "retrieval"], default="model")
    p.add_argument("--train-target", type=float, default=3.0)
    p.add_argument("--infer-target", type=float, help="inference ratio target (none when absent)")
    p.add_argument("--train-log")
    p.add_argument("--json-summary", metavar="OUT", help="also write the figures as JSON")
    a = p.parse_args()
    recc, torch = load_runs(a.out, a.repeats)
    try:
        if a.kind == "retrieval":
            s = summarize_retrieval(recc, torch, a.infer_target)
            print_retrieval(s)
        else:
            s = summarize_models(recc, torch, a.train_target, a.infer_target)
            print_models(s, a.title)
    except ValueError as e:
        sys.exit(f"side_by_side.py: {a.out}: {e}")
    s["title"] = a.title
    if a.train_log:
        rate, steps = epoch_rate(a.train_log)
        s["recc_train_over_bench"] = rate / s["train"]["recc"]["median"]
        print(f"  recc train on the CSV / bench     {s['recc_train_over_bench']:6.2f}    "
              f"({rate:,.0f} samples/s over {steps} steps, first step included; target >= 0.90)")
    if s["other_load"]["max"] > LOADED:
        print(f"warning: other processes used up to {s['other_load']['max']:.0%} of the CPU during "
              "the peer's measurements; the figures are disturbed")
    if a.json_summary:
        with open(a.json_summary, "w") as f:
            json.dump(s, f, indent=1)


if __name__ == "__main__":
    main()
