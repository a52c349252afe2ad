#!/usr/bin/python3
"""bench/side_by_side.py: the summary of an interleaved recc / PyTorch peer run.

The run_PAPER.sh scripts run `recc bench --json OUT/recc_I.json` and the peer
`--json OUT/torch_I.json` for I = 1..REPEATS, alternating, so that a change in the machine's
load hits both. This prints the median and range of every figure, the ratios of the medians
against the issue's targets, and (with --train-log) `recc train`'s epoch rate on a CSV against
the bench's step rate.

    side_by_side.py --out DIR --repeats N --title NAME [--train-target X] [--infer-target X]
                    [--train-log FILE]
"""

import argparse
import json
import re
import statistics
import sys


def stat(values):
    return statistics.median(values), min(values), max(values)


def row(name, values, unit="", fmt="{:,.0f}"):
    m, lo, hi = stat(values)
    print(f"  {name:<34}{fmt.format(m):>12} {unit:<10} range {fmt.format(lo)} .. {fmt.format(hi)}")
    return m


def epoch_rate(path):
    """Samples/s of the last epoch summary in a `recc train` log."""
    text = open(path).read()
    m = re.findall(r"epoch \d+/\d+: (\d+) steps, loss [^,]+, ([\d.]+)([kM]?) samples/s", text)
    if not m:
        sys.exit(f"no epoch summary in {path}:\n{text[-2000:]}")
    steps, value, unit = m[-1]
    return float(value) * {"": 1, "k": 1e3, "M": 1e6}[unit], steps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--train-target", type=float, default=3.0)
    p.add_argument("--infer-target", type=float, help="inference ratio target (none when absent)")
    p.add_argument("--train-log")
    a = p.parse_args()
    recc = [next(iter(json.load(open(f"{a.out}/recc_{i}.json"))["results"]))
            for i in range(1, a.repeats + 1)]
    torch = [json.load(open(f"{a.out}/torch_{i}.json")) for i in range(1, a.repeats + 1)]
    for r in recc:
        if "error" in r:
            sys.exit(f"recc bench failed: {r['error']}")

    t0 = torch[0]
    core = t0["blas"]["openblas"] and t0["blas"]["openblas"]["core"]
    print(f"\n{a.title}, batch {t0['batch']}, {t0['threads']} threads, {a.repeats} interleaved "
          f"repeats (median, range); OpenBLAS core {core}")
    print("recc (MLIR backend, `recc bench`):")
    r_train = row("training", [r["train_samples_per_second"] for r in recc], "samples/s")
    has_infer = all("infer_samples_per_second" in r for r in recc)
    r_infer = row("inference (eval step)", [r["infer_samples_per_second"] for r in recc],
                  "samples/s") if has_infer else None
    r_rss = row("peak RSS", [r["peak_rss_mb"] for r in recc], "MB")
    row("JIT compile, train step", [r["compile_seconds"] for r in recc], "s", "{:.1f}")
    print("pytorch eager peer:")
    p_train = row("training", [t["train_samples_per_s"] for t in torch], "samples/s")
    p_infer = row("inference", [t["infer_samples_per_s"] for t in torch], "samples/s")
    p_rss = row("peak RSS", [t["peak_rss_mib"] for t in torch], "MiB")
    sgemm = row("SGEMM 1024^3 (torch.mm)", [t["sgemm_gflops"] for t in torch], "GFLOP/s", "{:.1f}")
    loads = [max(t["other_load_train"], t["other_load_infer"]) for t in torch]
    row("other processes' CPU share", loads, "", "{:.2f}")

    # The peer's count of useful dense FLOPs (training = 3x forward) applies to both.
    mflop = t0["dense_mflop_per_sample_train"]
    r_gflops = r_train * mflop / 1e3
    print("\nratios (of the medians):")
    print(f"  training   recc / peer            {r_train / p_train:6.2f}x   "
          f"(target >= {a.train_target:g})")
    if r_infer is not None:
        target = f"(target >= {a.infer_target:g})" if a.infer_target else ""
        print(f"  inference  recc / peer            {r_infer / p_infer:6.2f}x   {target}")
    print(f"  peak RSS   recc / peer            {r_rss / p_rss:6.2f}    (target <= 1)")
    print(f"  recc dense GFLOP/s / SGEMM        {r_gflops / sgemm:6.2f}    ({r_gflops:.1f} GFLOP/s at "
          f"{mflop:.2f} MFLOP/sample)")
    print(f"  peer dense GFLOP/s / SGEMM        {p_train * mflop / 1e3 / sgemm:6.2f}")
    if a.train_log:
        rate, steps = epoch_rate(a.train_log)
        print(f"  recc train on the CSV / bench     {rate / r_train:6.2f}    ({rate:,.0f} samples/s "
              f"over {steps} steps, first step included; target >= 0.90)")
    if max(loads) > 0.05:
        print(f"warning: other processes used up to {max(loads):.0%} of the CPU during the peer's "
              "measurements; the figures are disturbed")


if __name__ == "__main__":
    main()
