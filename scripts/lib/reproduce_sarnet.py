"""SAR-Net (Shen et al., CIKM'21): Table 3 and the ablations of Tables 4-6 on
the planted multi-scenario data of examples/sarnet/gen_sarnet.

Every model trains on the same generated data with the MLIR backend (one
compiled trainer per model, 3 seeds; --quick: small data, 1 seed), and is
evaluated on the test file, which has no fc column (serving mode, spec 7.13).
Prints the paper's numbers beside the measured ones, checks the paper's
claims and writes out/reproduce/sarnet.json:
  {model: {auc, auc_spread, scenario_auc: {mean, spread, by: {s: {auc,
   spread, rows}}}, seeds: [...], paper: {...}}, "paper": ..., "claims": [...],
   "config": ...}
Usage: reproduce_sarnet.py --build DIR [--quick] [--out DIR] [--jobs N]
       reproduce_sarnet.py --validate FILE [--seeds N]
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reproduce_common as rc  # noqa: E402

SCENARIOS = 20

# (key, model file, model name, label, paper table): Table 3's mix- and
# multi-scenario models, STAR and HMoE (no paper numbers), the ablations.
MODELS = [
    ("wide_deep", "models/sarnet_baselines.rec", "wide_deep", "W&D (mix)", "table3"),
    ("pnn", "models/sarnet_baselines.rec", "pnn", "PNN (mix)", "table3"),
    ("din", "models/din.rec", "din", "DIN (mix)", "table3"),
    ("hps", "models/multi_scenario.rec", "hps", "HPS", "table3"),
    ("cross_stitch", "models/multi_scenario.rec", "cross_stitch", "Cross-Stitch", "table3"),
    ("mmoe", "models/multi_scenario.rec", "mmoe", "MMoE", "table3"),
    ("cgc", "models/multi_scenario.rec", "cgc", "CGC", "table3"),
    ("ple", "models/multi_scenario.rec", "ple", "PLE", "table3"),
    ("sarnet", "models/sarnet.rec", "sarnet", "SAR-Net", "table3"),
    ("star", "models/sarnet_baselines.rec", "star", "STAR", None),
    ("hmoe", "models/sarnet_baselines.rec", "hmoe", "HMoE", None),
    ("sarnet_mean_pool", "models/sarnet.rec", "sarnet_mean_pool", "SAR-Net* (mean pooling)",
     "table4"),
    ("sarnet_no_bias", "models/sarnet.rec", "sarnet_no_bias",
     "SAR-Net† (no bias net, plain BCE)", "table5"),
    ("sarnet_no_transform", "models/sarnet.rec", "sarnet_no_transform",
     "SAR-Net‡ (no transform layer)", "table6"),
]
TABLE3_BASELINES = ["wide_deep", "pnn", "din", "hps", "cross_stitch", "mmoe", "cgc", "ple"]
ABLATIONS = ["sarnet_mean_pool", "sarnet_no_bias", "sarnet_no_transform"]

# The paper's Table 3 (verbatim), scenarios #1..#20 then Overall; the mix-
# scenario columns for W&D, PNN and DIN.
PAPER_TABLE3 = {
    "wide_deep": [0.6556, 0.6686, 0.6690, 0.6788, 0.6606, 0.6694, 0.6691, 0.6796, 0.6386, 0.6786,
                  0.6691, 0.6888, 0.6406, 0.6688, 0.6694, 0.6896, 0.6806, 0.6357, 0.6786, 0.6291,
                  0.6587],
    "pnn": [0.6499, 0.6654, 0.6658, 0.6816, 0.6634, 0.6722, 0.6719, 0.6824, 0.6414, 0.6814,
            0.6719, 0.6916, 0.6434, 0.6716, 0.6722, 0.6924, 0.6834, 0.6371, 0.6814, 0.6319,
            0.6615],
    "din": [0.6568, 0.6698, 0.6702, 0.683, 0.6648, 0.6736, 0.6733, 0.6838, 0.6428, 0.6828,
            0.6733, 0.6930, 0.6448, 0.6730, 0.6736, 0.6938, 0.6848, 0.6411, 0.6828, 0.6333,
            0.6629],
    "hps": [0.6701, 0.6801, 0.6805, 0.6903, 0.6721, 0.6809, 0.6806, 0.6911, 0.6501, 0.6901,
            0.6806, 0.7003, 0.6521, 0.6803, 0.6809, 0.7011, 0.6921, 0.6411, 0.6901, 0.6406,
            0.6702],
    "cross_stitch": [0.6731, 0.6821, 0.6816, 0.6952, 0.6742, 0.6828, 0.6816, 0.6915, 0.6551,
                     0.6921, 0.6815, 0.7052, 0.6542, 0.6822, 0.6821, 0.7015, 0.6924, 0.6551,
                     0.6921, 0.6465, 0.6759],
    "mmoe": [0.6733, 0.6831, 0.6809, 0.6958, 0.6745, 0.6838, 0.6822, 0.6959, 0.6593, 0.6935,
             0.6811, 0.7058, 0.6545, 0.6831, 0.6831, 0.7059, 0.6979, 0.6583, 0.6935, 0.6511,
             0.6762],
    "cgc": [0.6752, 0.6852, 0.6808, 0.6961, 0.6755, 0.6855, 0.6818, 0.6962, 0.6552, 0.6962,
            0.6809, 0.7061, 0.6555, 0.6857, 0.6819, 0.7062, 0.6972, 0.6592, 0.6971, 0.6509,
            0.6791],
    "ple": [0.6768, 0.6858, 0.6822, 0.6968, 0.6769, 0.6861, 0.6827, 0.6975, 0.6568, 0.6958,
            0.6829, 0.7068, 0.6569, 0.6862, 0.6825, 0.7075, 0.6985, 0.6595, 0.6988, 0.6539,
            0.6801],
    "sarnet": [0.6811, 0.6901, 0.6921, 0.7053, 0.6829, 0.6902, 0.6936, 0.7085, 0.6681, 0.7001,
               0.6929, 0.7154, 0.6729, 0.6905, 0.6934, 0.7185, 0.7095, 0.6691, 0.7021, 0.6729,
               0.6997],
}
# Tables 4-6 (verbatim): each ablation's base model and SAR-Net, overall AUC.
PAPER_ABLATIONS = {"sarnet_mean_pool": 0.6925, "sarnet_no_bias": 0.6911,
                   "sarnet_no_transform": 0.6948}

# Data sizes (rows of training and test data), seeds and batch. Full: sized
# to keep the whole run under 30 minutes on a 2-core machine with two
# one-thread jobs: at 100k + 50k rows one seed of SAR-Net took 44 s and of PLE
# 38 s (one thread, 2026-12-06); the batch is 256 rather than the paper's 2048
# so that the rows still give about 600 Adam steps in one epoch. Quick: only
# checks that every model compiles and trains and that the JSON is complete.
FULL = {"train_rows": 150000, "test_rows": 50000, "seeds": [1, 2, 3], "batch": 256}
QUICK = {"train_rows": 3000, "test_rows": 3000, "seeds": [1], "batch": 256}
DATA_SEED = 7


def paper_numbers(key):
    if key in PAPER_TABLE3:
        t = PAPER_TABLE3[key]
        return {"table": 3, "auc": t[SCENARIOS],
                "scenario_auc": {str(s): t[s] for s in range(SCENARIOS)}}
    if key in PAPER_ABLATIONS:
        return {"table": {"sarnet_mean_pool": 4, "sarnet_no_bias": 5,
                          "sarnet_no_transform": 6}[key], "auc": PAPER_ABLATIONS[key]}
    return None


def generate(build, out, cfg):
    """The generated data, cached by size and seed; returns (train, test)."""
    d = os.path.join(out, "data", f"sarnet-{cfg['train_rows']}-{cfg['test_rows']}-s{DATA_SEED}")
    train, test = os.path.join(d, "train.csv"), os.path.join(d, "test.csv")
    gen = os.path.join(build, "examples", "sarnet", "gen_sarnet")
    if not os.access(gen, os.X_OK):
        raise rc.Failure(f"{gen} is missing: build the gen_sarnet target")
    done = os.path.join(d, "done")
    if not (os.path.exists(done) and os.path.getmtime(done) >= os.path.getmtime(gen)):
        os.makedirs(d, exist_ok=True)
        rc.run([gen, "--train", train, "--test", test, "--rows", str(cfg["train_rows"]),
                "--test-rows", str(cfg["test_rows"]), "--seed", str(DATA_SEED)], "generate data")
        open(done, "w").close()
    return train, test


def per_scenario(metrics):
    """{scenario: (auc or None, rows)} from one run's metrics JSON."""
    by = metrics.get("by_group", {}).get("scenario_auc", {}).get("by", {})
    return {s: (v["auc"], v["rows"]) for s, v in by.items()}


def aggregate(key, runs):
    """One model's entry of the result JSON from its per-seed metrics."""
    auc, auc_sd = rc.spread([r["metrics"].get("auc") for r in runs])
    gauc, gauc_sd = rc.spread([r["metrics"].get("scenario_auc") for r in runs])
    by = {}
    for s in sorted({s for r in runs for s in per_scenario(r)}, key=int):
        vals = [per_scenario(r).get(s, (None, 0)) for r in runs]
        mean, sd = rc.spread([v[0] for v in vals])
        by[s] = {"auc": mean, "spread": sd, "rows": vals[0][1]}
        if mean is None:
            by[s]["note"] = "undefined: one class in the test rows of this scenario"
    return {
        "auc": auc, "auc_spread": auc_sd,
        "scenario_auc": {"mean": gauc, "spread": gauc_sd, "by": by},
        "seeds": [{"seed": r["seed"], "auc": r["metrics"].get("auc"),
                   "scenario_auc": {s: a for s, (a, _) in per_scenario(r).items()},
                   "loss": r.get("loss"), "train_seconds": r["train_seconds"]} for r in runs],
        "paper": paper_numbers(key),
    }


def train_all(recc, out, cfg, train_csv, test_csv, jobs):
    """Compiles every model once, then trains every (model, seed), `jobs` at a
    time with one thread each; returns {key: [metrics per seed]}."""
    bins = os.path.join(out, "bin")
    batch = cfg["batch"]
    suffix = f"-b{batch}" if batch else ""
    trainers = rc.parallel(
        [lambda f=f, m=m: recc.compile(f, m, os.path.join(bins, m + suffix), batch)
         for _, f, m, _, _ in MODELS], jobs)
    runs_dir = os.path.join(out, "runs", f"{cfg['train_rows']}-{cfg['test_rows']}")

    def job(trainer, key, seed):
        def go():
            result = rc.train(trainer, train_csv, test_csv, seed,
                              os.path.join(runs_dir, f"{key}.seed{seed}.json"))
            result["seed"] = seed
            return key, result
        return go

    os.makedirs(runs_dir, exist_ok=True)
    jobs_list = [job(t, key, seed) for (key, *_), t in zip(MODELS, trainers)
                 for seed in cfg["seeds"]]
    runs = {key: [] for key, *_ in MODELS}
    for key, result in rc.parallel(jobs_list, jobs):
        runs[key].append(result)
    return runs


def check_claims(results):
    claims = rc.Claims()
    auc = {k: results[k]["auc"] for k in results}
    noise = lambda a, b: rc.difference_within_noise(results[a], results[b])
    claims.check("SAR-Net > PLE (overall AUC)", auc["sarnet"] > auc["ple"],
                 f"SAR-Net {rc.fmt(auc['sarnet'])}, PLE {rc.fmt(auc['ple'])}",
                 noise("sarnet", "ple"))
    for k, name in (("mmoe", "MMoE"), ("hps", "HPS")):
        claims.check(f"PLE > {name} (overall AUC)", auc["ple"] > auc[k],
                     f"PLE {rc.fmt(auc['ple'])}, {name} {rc.fmt(auc[k])}", noise("ple", k))
    best_base = max(TABLE3_BASELINES, key=lambda k: auc[k])
    claims.check("SAR-Net above every Table 3 baseline (overall AUC)",
                 auc["sarnet"] > auc[best_base],
                 f"best baseline {best_base} {rc.fmt(auc[best_base])}",
                 noise("sarnet", best_base))
    # Per scenario: SAR-Net against the best Table 3 baseline of that scenario.
    by = results["sarnet"]["scenario_auc"]["by"]
    gains, behind = [], []
    for s, v in by.items():
        others = [(results[k]["scenario_auc"]["by"].get(s, {}).get("auc"), k)
                  for k in TABLE3_BASELINES]
        others = [(a, k) for a, k in others if a is not None]
        if v["auc"] is None or not others:
            continue
        best, who = max(others)
        gains.append((v["rows"], int(s), v["auc"] - best))
        if v["auc"] <= best:
            behind.append(f"#{int(s) + 1} ({who} {best:.4f} vs {v['auc']:.4f})")
    claims.check("SAR-Net ahead in every scenario", not behind and gains,
                 f"behind in {len(behind)} of {len(gains)} scenarios"
                 + (": " + ", ".join(behind) if behind else ""))
    gains.sort()
    k = max(1, len(gains) // 4)
    small = sum(g for _, _, g in gains[:k]) / k if gains else math.nan
    large = sum(g for _, _, g in gains[-k:]) / k if gains else math.nan
    claims.check("SAR-Net's lead largest on the small scenarios", small > large,
                 f"mean lead over the best baseline on the {k} smallest scenarios "
                 f"{small:+.4f}, on the {k} largest {large:+.4f}")
    for k in ABLATIONS:
        claims.check(f"{k} loses AUC against SAR-Net", auc[k] < auc["sarnet"],
                     f"{rc.fmt(auc[k])} vs SAR-Net {rc.fmt(auc['sarnet'])} "
                     f"(paper {PAPER_ABLATIONS[k]:.4f} vs 0.6997)", noise(k, "sarnet"))
    return claims


def print_tables(results):
    label = {k: l for k, _, _, l, _ in MODELS}
    base = results["hps"]["auc"]
    rows = []
    for k, *_ in MODELS:
        r, p = results[k], results[k]["paper"]
        rows.append([label[k], rc.fmt(p["auc"]) if p else "—", rc.fmt_pm(r["auc"], r["auc_spread"]),
                     rc.fmt_pm(r["scenario_auc"]["mean"], r["scenario_auc"]["spread"]),
                     rc.fmt(rc.rela_impr(r["auc"], base), 2)])
    rc.print_table("Table 3 and Tables 4-6: overall AUC (mean ± sample std over seeds)",
                   ["model", "paper", "recc", "mean scenario AUC", "RelaImpr vs HPS %"], rows)
    table3 = [k for k, *_, t in MODELS if t == "table3"] + ["star", "hmoe"]
    header = ["scenario", "rows"] + [label[k].replace(" (mix)", "") for k in table3]
    rows = []
    for s in range(SCENARIOS):
        by = results["sarnet"]["scenario_auc"]["by"].get(str(s), {})
        rows.append([f"#{s + 1}", by.get("rows", 0)] +
                    [rc.fmt(results[k]["scenario_auc"]["by"].get(str(s), {}).get("auc"))
                     for k in table3])
    rows.append(["overall", ""] + [rc.fmt(results[k]["auc"]) for k in table3])
    rows.append(["paper overall", ""] + [rc.fmt(PAPER_TABLE3[k][SCENARIOS]) if k in PAPER_TABLE3
                                         else "—" for k in table3])
    rc.print_table("Per-scenario AUC (mean over seeds; scenario #k is the data's scenario k-1)",
                   header, rows)


def validate(path, seeds):
    """Raises Failure unless `path` holds a complete result: every model with a
    finite overall AUC from `seeds` seeds, a per-scenario table of the 20
    scenarios, the paper's numbers and the claims."""
    with open(path) as f:
        data = json.load(f)
    problems = []
    for key, *_ in MODELS:
        m = rc.checked_row(data, key, ["auc"], seeds, problems)
        if m is None:
            continue
        by = m.get("scenario_auc", {}).get("by", {})
        if sorted(by, key=int) != [str(s) for s in range(SCENARIOS)]:
            problems.append(f"{key}: scenario_auc.by has scenarios {sorted(by, key=int)}")
        for s, v in by.items():
            if v.get("auc") is None and "note" not in v:
                problems.append(f"{key}: scenario {s} has no AUC and no note saying why")
            if not isinstance(v.get("rows"), int) or v["rows"] <= 0:
                problems.append(f"{key}: scenario {s} has rows {v.get('rows')!r}")
        if m.get("paper") is None and key not in ("star", "hmoe"):
            problems.append(f"{key}: the paper's numbers are missing")
    rc.finish_validation(path, data, problems, 9, f"{len(MODELS)} models, {seeds} seeds")


def run(a, cfg, recc):
    rc.log(f"SAR-Net reproduction ({'quick' if a.quick else 'full'}): "
           f"{cfg['train_rows']} training rows, {cfg['test_rows']} test rows, "
           f"seeds {cfg['seeds']}, {a.jobs} jobs")
    train_csv, test_csv = generate(a.build, a.out, cfg)
    runs = train_all(recc, a.out, cfg, train_csv, test_csv, a.jobs)
    results = {k: aggregate(k, runs[k]) for k, *_ in MODELS}
    print_tables(results)
    paper = {"table3": {k: {"auc": v[SCENARIOS],
                            "scenario_auc": {str(s): v[s] for s in range(SCENARIOS)}}
                        for k, v in PAPER_TABLE3.items()},
             "ablations": PAPER_ABLATIONS}
    return results, paper, check_claims(results)


if __name__ == "__main__":
    sys.exit(rc.main("sarnet", __doc__, FULL, QUICK, run, validate, DATA_SEED))
