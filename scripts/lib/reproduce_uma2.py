"""UMA² (Lou et al., SIGIR'22): Table 1 on the planted funnel data of
examples/uma2/gen_uma2.

Every model of Table 1 trains on the training set of the sampling strategy the
paper pairs it with (one compiled trainer per model, 3 seeds; --quick: small
data, 1 seed), then retrieves from the whole item corpus for each user of the
test day (`recc eval --corpus`): HitRate, Precision and Recall @100 and @200,
averaged over the test users (spec A.5). Seen items are not excluded (spec
A.8.13: the paper's protocol gives no filtering). The AUC on the test day's
clicks sampled 1:4:20 (valid.csv) is reported too.

One row beyond Table 1, marked "not in the paper": DSSM (models/dssm.rec, which
the paper cites but does not compare), trained on the SS-ABC(random) data in
its own form, a softmax over each click with 4 of its random negatives
(scripts/lib/dssm_rows.py); its AUC is its score `p` on valid.csv's rows.

The model files declare the paper's vocabularies (1.6M users, 282k items, 10k
categories); the data has far fewer, so the reproduction trains variants of
them with the vocabularies set to the generated world's sizes (written under
OUT/models/, nothing else changes).

Prints the paper's Table 1 beside the measured numbers, checks the paper's
claims and writes out/reproduce/uma2.json:
  {row: {model, strategy, hitrate@100, hitrate@100_spread, ..., auc, seeds:
   [...], paper: {...}}, "paper": ..., "claims": [...], "config": ...}
Usage: reproduce_uma2.py --build DIR [--quick] [--out DIR] [--jobs N]
       reproduce_uma2.py --validate FILE [--seeds N]
"""

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dssm_rows  # noqa: E402
import reproduce_common as rc  # noqa: E402

STRATEGY_FILE = {"SS-A": "ss_a.csv", "SS-AB": "ss_ab.csv", "SS-ABC(random)": "ss_abc_random.csv",
                 "SS-ABC(fixed)": "ss_abc_fixed.csv"}

# (row key, model file, model name, label, sampling strategy, Table 1 group):
# Table 1's rows in its order.
ROWS = [
    ("ytb_ss_a", "youtube_dnn.rec", "youtube_dnn", "YouTube DNN", "SS-A", "main"),
    ("dat_ss_a", "uma2_baselines.rec", "dat", "DAT", "SS-A", "main"),
    ("esam_ytb", "uma2_baselines.rec", "esam_ytb", "ESAM_YTB", "SS-AB", "main"),
    ("esam_dat", "uma2_baselines.rec", "esam_dat", "ESAM_DAT", "SS-AB", "main"),
    ("uma2_ytb_ss_ab", "uma2.rec", "uma2", "UMA²_YTB", "SS-AB", "main"),
    ("uma2_dat_ss_ab", "uma2_baselines.rec", "uma2_dat", "UMA²_DAT", "SS-AB", "main"),
    ("fm", "uma2_baselines.rec", "fm", "FM", "SS-ABC(random)", "main"),
    ("ytb_random", "youtube_dnn.rec", "youtube_dnn", "YouTube DNN", "SS-ABC(random)", "main"),
    ("mind", "uma2_baselines.rec", "mind", "MIND", "SS-ABC(random)", "main"),
    ("dat_random", "uma2_baselines.rec", "dat", "DAT", "SS-ABC(random)", "main"),
    ("uma2_ytb", "uma2.rec", "uma2", "UMA²_YTB", "SS-ABC(fixed)", "main"),
    ("uma2_dat", "uma2_baselines.rec", "uma2_dat", "UMA²_DAT", "SS-ABC(fixed)", "main"),
    ("ytb_fixed", "youtube_dnn.rec", "youtube_dnn", "YouTube DNN", "SS-ABC(fixed)", "ablation 1"),
    ("dat_fixed", "uma2_baselines.rec", "dat", "DAT", "SS-ABC(fixed)", "ablation 1"),
    ("uma2_sos_ytb", "uma2_baselines.rec", "uma2_sos_ytb", "UMA²_SOS_YTB", "SS-ABC(fixed)",
     "ablation 2"),
    ("uma2_sos_dat", "uma2_baselines.rec", "uma2_sos_dat", "UMA²_SOS_DAT", "SS-ABC(fixed)",
     "ablation 2"),
]

# Rows beyond Table 1 (no paper numbers): DSSM on SS-ABC(random), in its own
# form (dssm_rows: 1 click + 4 of its random negatives a row).
EXTRA_ROWS = [("dssm", "dssm.rec", "dssm", "DSSM", "SS-ABC(random)", "not in the paper")]
ALL_ROWS = ROWS + EXTRA_ROWS

METRICS = ["hitrate@100", "hitrate@200", "precision@100", "precision@200", "recall@100",
           "recall@200"]
# The paper's Table 1 (verbatim), in METRICS' order.
PAPER = {
    "ytb_ss_a": [0.35567, 0.39642, 0.00385, 0.00213, 0.33902, 0.37977],
    "dat_ss_a": [0.37644, 0.41831, 0.00412, 0.00227, 0.36068, 0.40255],
    "esam_ytb": [0.38040, 0.43422, 0.00413, 0.00234, 0.36355, 0.41736],
    "esam_dat": [0.40928, 0.47505, 0.00443, 0.00254, 0.38977, 0.45554],
    "uma2_ytb_ss_ab": [0.57014, 0.60759, 0.00630, 0.00334, 0.54986, 0.58731],
    "uma2_dat_ss_ab": [0.58481, 0.62066, 0.00647, 0.00342, 0.56513, 0.60098],
    "fm": [0.58640, 0.69417, 0.00816, 0.00513, 0.49372, 0.60717],
    "ytb_random": [0.73796, 0.79481, 0.00817, 0.00437, 0.72038, 0.77723],
    "mind": [0.75550, 0.80771, 0.00838, 0.00445, 0.73897, 0.79119],
    "dat_random": [0.76318, 0.81378, 0.00846, 0.00448, 0.74629, 0.79690],
    "uma2_ytb": [0.74693, 0.80140, 0.00827, 0.00441, 0.72931, 0.78379],
    "uma2_dat": [0.76679, 0.81654, 0.00850, 0.00450, 0.74994, 0.79969],
    "ytb_fixed": [0.64448, 0.70377, 0.00714, 0.00386, 0.62559, 0.68488],
    "dat_fixed": [0.65382, 0.71174, 0.00724, 0.00391, 0.63476, 0.69268],
    "uma2_sos_ytb": [0.64737, 0.71090, 0.00714, 0.00389, 0.62791, 0.69144],
    "uma2_sos_dat": [0.66201, 0.72552, 0.00731, 0.00397, 0.64239, 0.70590],
}

# The generated world (gen_uma2 --users/--items/--cates) and the vocabularies
# the model variants declare; requests per day set the rows. Full: sized for
# the 30-minute budget on a 2-core machine with two one-thread jobs (5000
# training requests give about 120k rows per training set; one seed of uma2 at
# 144k rows took 63 s and of youtube_dnn 25 s while other jobs shared the
# cores, 2026-12-06). Quick: only checks that every model trains and evaluates
# and that the JSON is complete.
WORLD = {"users": 8000, "items": 10000, "cates": 100}
FULL = {"train_requests": 5000, "test_requests": 3000, "seeds": [1, 2, 3]}
QUICK = {"train_requests": 300, "test_requests": 200, "seeds": [1]}
DATA_SEED = 11
K = [50, 100, 200]

# The paper's vocabularies in the model files, and their declarations.
PAPER_VOCAB = [(r"(cate_id|cate_w from \"cate_id\") : id\(10000\)", r"\1 : id({cates})"),
               (r"(cate_emb|cate_lin)\[10000,", r"\1[{cates},"),
               (r"\b1629473\b", "{users}"), (r"\b282728\b", "{items}")]


def model_variant(src, dst):
    """`src` with the paper's vocabularies replaced by the world's sizes;
    fails if a model file no longer declares them as expected."""
    with open(src) as f:
        text = f.read()
    for pattern, repl in PAPER_VOCAB:
        text, n = re.subn(pattern, repl.format(**WORLD), text)
        if n == 0:
            raise rc.Failure(f"{src}: no '{pattern}' to resize (did the model's vocabulary change?)")
    def make(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    rc.cached(dst, make, src, os.path.abspath(__file__))  # rewritten when this code changes
    return dst


def dssm_variant(src, dst):
    """models/dssm.rec for this world: its vocabularies (words: dssm_rows'
    query vocabulary; documents: the items), and what corpus retrieval needs,
    which the file, a model of text matching, does not declare: the request
    and item keys (user_id, item_id, read by no tower) and a top_k of the
    query vector over the candidates' (the first candidate's: the corpus
    item's), both L2-normalized as the training cosine is."""
    with open(src) as f:
        text = f.read()
    vocab, items = dssm_rows.query_vocab(WORLD), WORLD["items"]
    edits = [("ids(500000, len = 20)", f"ids({vocab}, len = 20)"),
             ("ids(500000, len = 5)", f"ids({items}, len = 5)"),
             ("word_emb[500000,", f"word_emb[{vocab},"), ("doc_emb[500000,", f"doc_emb[{items},"),
             ("  label clicked", f"  input user_id : id({WORLD['users']})  "
                                 f"input item_id : id({items})   # retrieval keys\n  label clicked"),
             ("  output p\n", "  top_items = top_k(l2_normalize(v_q), take(l2_normalize(v_d), 0), "
                              "k = 200)\n  output p, top_items\n")]
    for old, new in edits:
        if text.count(old) != 1:
            raise rc.Failure(f"{src}: no single '{old.strip()}' to adapt (did the model change?)")
        text = text.replace(old, new)

    def make(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    rc.cached(dst, make, src, os.path.abspath(__file__))  # rewritten when this code changes
    return dst


def dssm_files(data):
    """DSSM's training, validation, test and corpus files (dssm_rows), written
    once next to gen_uma2's; returns {"train", "valid", "test", "corpus"}."""
    files, code = {}, dssm_rows.__file__  # rebuilt when the generator's files or the code change
    for name, src, make in (("train", "ss_abc_random.csv", dssm_rows.training_rows),
                            ("valid", "valid.csv", dssm_rows.single_rows),
                            ("test", "test.csv", dssm_rows.single_rows)):
        files[name] = os.path.join(data, f"dssm_{name}.csv")
        rc.cached(files[name], lambda tmp, src=src, make=make: dssm_rows.write(
            os.path.join(data, src), tmp, WORLD, make), os.path.join(data, src), code)
    files["corpus"] = os.path.join(data, "dssm_corpus.csv")
    rc.cached(files["corpus"], lambda tmp: dssm_rows.write_corpus(
        os.path.join(data, "corpus.csv"), tmp), os.path.join(data, "corpus.csv"), code)
    return files


def generate(build, out, cfg):
    """The generated data, cached by size and seed; returns its directory."""
    d = os.path.join(out, "data", f"uma2-{cfg['train_requests']}-{cfg['test_requests']}"
                                  f"-s{DATA_SEED}")
    gen = os.path.join(build, "examples", "uma2", "gen_uma2")
    if not os.access(gen, os.X_OK):
        raise rc.Failure(f"{gen} is missing: build the gen_uma2 target")
    done = os.path.join(d, "done")
    if not (os.path.exists(done) and os.path.getmtime(done) >= os.path.getmtime(gen)):
        os.makedirs(d, exist_ok=True)
        rc.run([gen, "--out", d, "--users", str(WORLD["users"]), "--items",
                str(WORLD["items"]), "--cates", str(WORLD["cates"]),
                "--train-requests", str(cfg["train_requests"]), "--test-requests",
                str(cfg["test_requests"]), "--seed", str(DATA_SEED)], "generate data",
               output_to=os.path.join(d, "summary.txt"))
        open(done, "w").close()
    return d


def run_all(recc, out, cfg, data, jobs):
    """Compiles every model once, then trains and evaluates every (row, seed),
    `jobs` at a time with one thread each; returns {row: [result per seed]}."""
    models_dir, bins = os.path.join(out, "models"), os.path.join(out, "bin")
    variant = lambda f: dssm_variant if f == "dssm.rec" else model_variant  # noqa: E731
    files = {f: variant(f)(os.path.join("models", f), os.path.join(models_dir, f))
             for f in sorted({f for _, f, *_ in ALL_ROWS})}
    pairs = sorted({(f, m) for _, f, m, *_ in ALL_ROWS})
    trainers = dict(zip(pairs, rc.parallel(
        [lambda f=f, m=m: recc.compile(files[f], m, os.path.join(bins, "uma2-" + m))
         for f, m in pairs], jobs)))
    runs_dir = os.path.join(out, "runs", f"{cfg['train_requests']}-{cfg['test_requests']}")
    os.makedirs(runs_dir, exist_ok=True)
    valid, test, corpus = (os.path.join(data, n) for n in ("valid.csv", "test.csv", "corpus.csv"))
    dssm = dssm_files(data)

    def job(key, f, m, strategy, seed):
        def go():
            stem = os.path.join(runs_dir, f"{key}.seed{seed}")
            if m == "dssm":  # its own rows; its towers read no id, so the keys are named
                train_csv, valid_csv, test_csv, corpus_csv = (
                    dssm[n] for n in ("train", "valid", "test", "corpus"))
                keys = ["--user-key", "user_id", "--item-key", "item_id"]
            else:
                train_csv, valid_csv, test_csv, corpus_csv, keys = (
                    os.path.join(data, STRATEGY_FILE[strategy]), valid, test, corpus, [])
            result = rc.trained(stem, trainers[(f, m)], train_csv, valid_csv)
            if result is None:
                result = rc.train(trainers[(f, m)], train_csv, valid_csv, seed,
                                  stem + ".train.json", checkpoint=stem + ".ckpt")
                with open(stem + ".train.json", "w") as fh:
                    json.dump(result, fh)
            result["retrieval"] = rc.retrieve(recc, files[f], m, stem + ".ckpt", test_csv,
                                              corpus_csv, K, stem + ".eval.json", keys=keys,
                                              what=f"retrieve {key} seed {seed}")
            result["seed"] = seed
            return key, result
        return go

    jobs_list = [job(key, f, m, s, seed) for key, f, m, _, s, _ in ALL_ROWS
                 for seed in cfg["seeds"]]
    runs = {key: [] for key, *_ in ALL_ROWS}
    for key, result in rc.parallel(jobs_list, jobs):
        runs[key].append(result)
    return runs


def aggregate(key, runs):
    """One row's entry of the result JSON from its per-seed results."""
    _, f, m, label, strategy, group = next(r for r in ALL_ROWS if r[0] == key)
    entry = {"model": m, "label": label, "strategy": strategy, "group": group}
    for metric in METRICS + ["auc"]:
        vals = [r["metrics"].get("auc") if metric == "auc" else r["retrieval"].get(metric)
                for r in runs]
        entry[metric], entry[metric + "_spread"] = rc.spread(vals)
    entry["seeds"] = [dict({"seed": r["seed"], "auc": r["metrics"].get("auc"),
                            "train_seconds": r["train_seconds"]}, **r["retrieval"]) for r in runs]
    if key in PAPER:
        entry["paper"] = dict(zip(METRICS, PAPER[key]))
    return entry


def check_claims(results):
    claims = rc.Claims()
    hr = lambda k: results[k]["hitrate@200"]
    noise = lambda a, b: rc.difference_within_noise(results[a], results[b], "hitrate@200")
    show = lambda k: f"{results[k]['label']} {results[k]['strategy']} {rc.fmt(hr(k))}"
    # Ablation 1: re-weighting lifts the equal-weight GMM on the same 1:4:20 data.
    claims.check("UMA²_YTB > YouTube DNN with equal weights, both SS-ABC(fixed) (HR@200; "
                 "paper 0.801 vs 0.704)", hr("uma2_ytb") > hr("ytb_fixed"),
                 f"{show('uma2_ytb')}, {show('ytb_fixed')}", noise("uma2_ytb", "ytb_fixed"))
    claims.check("UMA²_DAT > DAT with equal weights, both SS-ABC(fixed) (HR@200; paper 0.817 vs "
                 "0.712)", hr("uma2_dat") > hr("dat_fixed"),
                 f"{show('uma2_dat')}, {show('dat_fixed')}", noise("uma2_dat", "dat_fixed"))
    # Ablation 2: NSDN's learned propensities beat SOS's heuristic weights.
    for a, b in (("uma2_ytb", "uma2_sos_ytb"), ("uma2_dat", "uma2_sos_dat")):
        claims.check(f"{results[a]['label']} > {results[b]['label']} (HR@200)", hr(a) > hr(b),
                     f"{show(a)}, {show(b)}", noise(a, b))
    # Sampling from the entire space beats sampling from the exposure space only.
    for a, b in (("ytb_random", "ytb_ss_a"), ("dat_random", "dat_ss_a"),
                 ("uma2_ytb", "ytb_ss_a")):
        claims.check(f"{show(a).rsplit(' ', 1)[0]} > {show(b).rsplit(' ', 1)[0]} (HR@200: "
                     "SS-ABC beats SS-A)", hr(a) > hr(b), f"{show(a)}, {show(b)}", noise(a, b))
    return claims


def print_table(results):
    rows = []
    for key, *_ in ALL_ROWS:
        r = results[key]
        cells = [f"{r['label']} [{r['strategy']}]" + (f" ({r['group']})" if r["group"] != "main"
                                                     else "")]
        for metric in ("hitrate@100", "hitrate@200", "precision@100", "precision@200",
                       "recall@100", "recall@200"):
            digits = 5 if metric.startswith("precision") else 4
            paper = (r.get("paper") or {}).get(metric)
            cells.append(("—" if paper is None else f"{paper:.{digits}f}") + " | "
                         + rc.fmt_pm(r[metric], r[metric + "_spread"], digits))
        cells.append(rc.fmt_pm(r["auc"], r["auc_spread"]))
        rows.append(cells)
    rc.print_table("Table 1: paper | recc (mean ± sample std over seeds); retrieval over the "
                   "whole corpus, averaged over the test day's users",
                   ["model [strategy]", "HR@100", "HR@200", "P@100", "P@200", "R@100", "R@200",
                    "AUC (valid 1:4:20)"], rows)


def validate(path, seeds):
    """Raises Failure unless `path` holds a complete result: every row with
    finite retrieval metrics in [0, 1] from `seeds` seeds, the paper's
    numbers and the claims."""
    with open(path) as f:
        data = json.load(f)
    problems = []
    for key, *_ in ALL_ROWS:
        r = rc.checked_row(data, key, METRICS + ["auc"], seeds, problems)
        if r is None:
            continue
        if sorted((r.get("paper") or {})) != (sorted(METRICS) if key in PAPER else []):
            problems.append(f"{key}: the paper's numbers are " +
                            ("missing" if key in PAPER else "there, but the paper has none"))
    rc.finish_validation(path, data, problems, 7, f"{len(ALL_ROWS)} rows, {seeds} seeds")


def run(a, cfg, recc):
    rc.log(f"UMA² reproduction ({'quick' if a.quick else 'full'}): "
           f"{cfg['train_requests']} training and {cfg['test_requests']} test requests, "
           f"seeds {cfg['seeds']}, {a.jobs} jobs")
    data = generate(a.build, a.out, cfg)
    runs = run_all(recc, a.out, cfg, data, a.jobs)
    results = {key: aggregate(key, runs[key]) for key, *_ in ALL_ROWS}
    print_table(results)
    paper = {"table1": {k: dict(zip(METRICS, v)) for k, v in PAPER.items()}}
    return results, paper, check_claims(results)


if __name__ == "__main__":
    sys.exit(rc.main("uma2", __doc__, FULL, QUICK, run, validate, DATA_SEED,
                     config={"world": WORLD, "k": K, "exclude_seen": False}))
