"""DAMCAR (ACM MM'24): Table 2 and the Fig. 3 ablation on the planted data of
examples/damcar/gen_damcar, through the whole cascade (spec damcar.md 4.1).

  Stage 0  Rank (models/damcar_rank.rec: DeepFM, the Table 2 setting, or with
           --rank dcn DCN, the Table 3 setting) trains on S_exp(train), then
           is frozen: one Rank for every method and seed (spec 5.3.3).
  Stage 1  walk_sample: S_sam, the hard unexposed pairs of random walks with
           restart (R = 25, H = 50); and as many uniformly random unexposed
           pairs (w/o TDG, and the unexposed samples of TL, AR and MUDA, spec
           A28).
  Stage 2  the label generator (damcar: 512 exposed + 512 S_sam rows a step,
           GRL, EMA teacher), per seed; ablations: the target stream of random
           pairs (w/o TDG), L_sup's weight λ1 = 0 (w/o EMA).
  Stage 3  `recc predict` with the generator: yhat_s on the exposed rows,
           yhat_t on the S_sam rows; with Rank: y_rank on every row; both are
           joined into damcar_ret's input columns (S_T = S_exp ∪ S_sam, the
           user and item ids kept). w/o MPL: exposed negatives get 0 instead
           of yhat_s (spec A13).
  Stage 4  damcar_ret, and the baselines BC, KD, TL (--init-from BC, item
           tower only), AR and MUDA: the same DSSM.

Every model trains up to a cap of epochs with recc's early stopping on the
validation split S_exp(val) (spec A15: patience 2; on AUC, the retrieval
models on the rows of a fixed sample of validation users) and keeps the best
epoch's checkpoint (--keep-best), which every later stage uses.

Every retrieval model then retrieves from the whole corpus for a fixed sample
of test users (`recc eval --corpus`, training positives excluded, spec A27):
R/P/F@100/200, and recall split into the test positives that were exposed to
the user in training and those that were not. Rank re-scores each user's top
200 (`recc predict --corpus`, the items' features joined, Rank's predict) and
its top 10/20 give N/M/H@10/20 (NDCG, MAP, paper-compatible H = hits/k; MRR and
the standard HitRate in the JSON). Prints the paper's Table 2 (WeChat) beside
recc's numbers (mean ± sample std over seeds), checks the paper's claims and
writes out/reproduce/damcar.json (with --rank dcn: damcar_dcn.json, and no
paper numbers: the paper's Table 3 lost them):
  {row: {label, recall@100, recall@100_spread, ..., seeds: [...], paper: {...}},
   "stages": {...}, "paper": ..., "claims": [...], "config": ...}
Usage: reproduce_damcar.py --build DIR [--quick] [--out DIR] [--jobs N] [--rank deepfm|dcn]
       reproduce_damcar.py --validate FILE [--seeds N]
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cascade_join as cj  # noqa: E402
import cascade_metrics as cm  # noqa: E402
import reproduce_common as rc  # noqa: E402

DAMCAR, BASELINES, RANK = "models/damcar.rec", "models/damcar_baselines.rec", "models/damcar_rank.rec"
# The ranker's models in damcar_rank.rec: the paper's Table 2 ranks with
# DeepFM, its Table 3 with DCN (spec A18).
RANK_LABEL = {"deepfm": "DeepFM", "dcn": "DCN"}

# (row key, label, model, training data, generator): Table 2's rows, then the
# ablations. Data: "exp" S_exp(train) | "exp_rank" with y_rank | "rand_rank"
# the random unexposed pairs with y_rank | "mix" S_exp ∪ random pairs with
# y_rank and `exposed` | "st" S_T built with the row's generator.
ROWS = [
    ("bc", "BC", "bc", "exp", None),
    ("kd", "KD", "kd", "exp_rank", None),
    ("tl", "TL", "tl", "rand_rank", None),
    ("ar", "AR", "ar", "mix", None),
    ("muda", "MUDA", "muda", "mix", None),
    ("damcar", "DAMCAR", "damcar_ret", "st", "walk"),
    ("wo_tdg", "w/o TDG", "damcar_ret", "st", "random"),
    ("wo_ema", "w/o EMA", "damcar_ret", "st", "no_ema"),
    ("wo_mpl", "w/o MPL", "damcar_ret", "st", "walk"),
]
BASELINE_ROWS = ["bc", "kd", "tl", "ar", "muda"]
ABLATIONS = ["wo_tdg", "wo_ema", "wo_mpl"]
# Generators: (target stream, model variant). no_ema: L_sup's weight λ1 = 0.
GENERATORS = {"walk": ("sam", "damcar"), "random": ("rand", "damcar"),
              "no_ema": ("sam", "damcar_no_ema")}

RET_METRICS = ["recall@100", "precision@100", "f1@100", "recall@200", "precision@200", "f1@200"]
RANK_METRICS = ["ndcg@10", "map@10", "h_paper@10", "ndcg@20", "map@20", "h_paper@20"]
EXTRA_METRICS = ["mrr@10", "mrr@20", "hitrate@10", "hitrate@20", "recall@100/unexposed",
                 "recall@200/unexposed", "recall@100/exposed", "recall@200/exposed"]
METRICS = RET_METRICS + RANK_METRICS + EXTRA_METRICS
# The paper's Table 2, WeChat (the setting our data follows: R = 25, H = 50),
# in RET_METRICS + RANK_METRICS order; no paper numbers for the ablations.
PAPER = {
    "bc": [0.0740, 0.0113, 0.0196, 0.1375, 0.0106, 0.0197, 0.0477, 0.0284, 0.0124, 0.0718, 0.0336, 0.0130],
    "kd": [0.0785, 0.0121, 0.0210, 0.1386, 0.0110, 0.0204, 0.0549, 0.0329, 0.0142, 0.0763, 0.0364, 0.0146],
    "tl": [0.0855, 0.0125, 0.0218, 0.1449, 0.0110, 0.0204, 0.0507, 0.0288, 0.0138, 0.0652, 0.0296, 0.0121],
    "ar": [0.0823, 0.0126, 0.0219, 0.1511, 0.0116, 0.0215, 0.0562, 0.0340, 0.0148, 0.0782, 0.0386, 0.0142],
    "muda": [0.0812, 0.0126, 0.0218, 0.1433, 0.0113, 0.0209, 0.0545, 0.0327, 0.0147, 0.0746, 0.0338, 0.0143],
    "damcar": [0.0884, 0.0135, 0.0234, 0.1579, 0.0121, 0.0225, 0.0657, 0.0394, 0.0166, 0.0867, 0.0441, 0.0154],
}
PAPER_TIKTOK = {
    "bc": [0.0627, 0.0063, 0.0114, 0.1222, 0.0062, 0.0118, 0.0356, 0.0274, 0.0066, 0.0477, 0.0300, 0.0062],
    "kd": [0.0664, 0.0066, 0.0120, 0.1347, 0.0068, 0.0129, 0.0402, 0.0317, 0.0072, 0.0526, 0.0341, 0.0067],
    "tl": [0.0645, 0.0065, 0.0118, 0.1409, 0.0070, 0.0133, 0.0402, 0.0298, 0.0078, 0.0512, 0.0323, 0.0066],
    "ar": [0.0664, 0.0066, 0.0120, 0.1523, 0.0074, 0.0141, 0.0400, 0.0313, 0.0073, 0.0516, 0.0338, 0.0064],
    "muda": [0.0685, 0.0071, 0.0129, 0.1540, 0.0075, 0.0143, 0.0413, 0.0323, 0.0076, 0.0543, 0.0350, 0.0068],
    "damcar": [0.0775, 0.0075, 0.0137, 0.1580, 0.0077, 0.0147, 0.0443, 0.0356, 0.0089, 0.0558, 0.0359, 0.0078],
}

# Sizes (gen_damcar's world, the test users evaluated, each stage's cap of
# epochs: early stopping may end a model sooner). Full: sized for the 30-minute
# budget on a 2-core machine with two one-thread jobs. Adagrad at lr 0.01 (the
# paper's, for every model) moves the towers slowly: BC on a 3,000-user world
# (108k training rows) reached R@100 0.148 after 40 epochs, still rising
# (popularity: 0.166), so the world is small; the caps are the spec's 20 (A15)
# for Rank and the retrieval models and 8 for the generators (whose epoch
# costs about twice a retrieval model's). Worst case, every model to its cap,
# at the CPU seconds measured per epoch with the validation pass (2026-12-07,
# load 4-5): about 3,100 CPU seconds, 26 minutes on 2 cores; the arithmetic is in
# examples/damcar/README.md. Quick: only checks that every stage trains, keeps
# its best checkpoint and that the JSON is complete.
FULL = {"users": 3000, "items": 3000, "authors": 300, "eval_users": 1500, "rank_epochs": 20,
        "gen_epochs": 8, "ret_epochs": 20, "seeds": [1, 2, 3]}
QUICK = {"users": 400, "items": 400, "authors": 40, "eval_users": 100, "rank_epochs": 2,
         "gen_epochs": 1, "ret_epochs": 1, "seeds": [1]}
# Early stopping (spec A15): evaluations without a gain before a model stops,
# and the validation metric each kind of model keeps its best epoch by. The
# spec stops the retrieval models on validation R@100 over the corpus, which
# recc's training loop does not compute; its eval step's r100 ranks only each
# evaluation batch's rows, and on BC it moved by ±0.002 between epochs while
# rising 0.002 an epoch, so patience 2 stopped BC at epoch 9 (best 7) with its
# AUC and R@200 still rising (2026-12-07). AUC rose every epoch, so they stop
# on it. Their validation pass is the slow part of an epoch (the in-batch
# top_k of every row), so they validate on the rows of VALID_USERS users with
# a finished video: 5.9k of the 36k rows, about 0.8 instead of 3.4 CPU seconds.
PATIENCE = 2
STOP_METRIC = {"rank": "auc", "generator": "auc", "ret": "auc"}
VALID_USERS = 500
DATA_SEED = 7
RANK_SEED = 1
WALK = {"radius": 25, "visits": 50}
KS, RANK_KS, CANDIDATES = [100, 200], [10, 20], 200
ID_COLS = ["user_id", "item_id", "author_id"]
CONTENT = [f"{m}_{j}" for m in "vat" for j in range(4)]
STAGE_COLUMNS = ID_COLS + CONTENT + ["finish", "exposed", "y_rank"]
ST_COLUMNS = STAGE_COLUMNS + ["yhat_gen"]


# ---------------------------------------------------------------------------------------------
# Data (Stage 1 included): generated once per size.

def tool(build, name):
    path = os.path.join(build, "examples", "damcar", name)
    if not os.access(path, os.X_OK):
        raise rc.Failure(f"{path} is missing: build the {name} target")
    return path


def generate(build, out, cfg):
    """gen_damcar's files plus s_sam.csv (the walks), s_rand.csv (as many
    random unexposed pairs), eval_test.csv (the test rows of a fixed sample of
    test users with a positive) and eval_valid.csv (the same for validation,
    VALID_USERS users), cached by size; returns the directory."""
    d = os.path.join(out, "data", f"damcar-{cfg['users']}-{cfg['items']}-s{DATA_SEED}")
    gen, walk = tool(build, "gen_damcar"), tool(build, "walk_sample")
    done = os.path.join(d, "done")
    if not (os.path.exists(done) and all(os.path.getmtime(done) >= os.path.getmtime(t)
                                         for t in (gen, walk))):
        run_generators(d, cfg, gen, walk)
    valid = os.path.join(d, "valid.csv")  # resampled when the data or VALID_USERS changes
    rc.cached(os.path.join(d, "eval_valid.csv"),
              lambda tmp: sample_test_users(valid, tmp, VALID_USERS), valid,
              os.path.abspath(__file__))
    return d


def run_generators(d, cfg, gen, walk):
    """gen_damcar and both walk_sample runs into `d`, then its `done` mark."""
    os.makedirs(d, exist_ok=True)
    rc.run([gen, "--out", d, "--users", str(cfg["users"]), "--items", str(cfg["items"]),
            "--authors", str(cfg["authors"]), "--seed", str(DATA_SEED)], "generate data",
           output_to=os.path.join(d, "summary.txt"))
    base = [walk, "--exposures", os.path.join(d, "train.csv"), "--items",
            os.path.join(d, "items.csv"), "--radius", str(WALK["radius"]), "--visits",
            str(WALK["visits"]), "--seed", str(DATA_SEED), "--threads", "2"]
    rc.run(base + ["--out", os.path.join(d, "s_sam.csv")], "walk_sample (S_sam)",
           output_to=os.path.join(d, "walk.txt"))
    rc.run(base + ["--random", "--out", os.path.join(d, "s_rand.csv")],
           "walk_sample --random", output_to=os.path.join(d, "random.txt"))
    sample_test_users(os.path.join(d, "test.csv"), os.path.join(d, "eval_test.csv"),
                      cfg["eval_users"])
    open(os.path.join(d, "done"), "w").close()


def sample_test_users(test, out, n):
    """The rows of `test` of at most `n` users with a finished video there,
    drawn with a fixed seed (each user's rows kept together, in file order)."""
    cols = cj.read_columns(test, ["user_id", "finish"])
    with_pos = sorted({u for u, f in zip(cols["user_id"], cols["finish"]) if float(f) > 0},
                      key=int)
    keep = set(random.Random(DATA_SEED).sample(with_pos, min(n, len(with_pos))))
    with open(test) as src, open(out, "w") as dst:
        header = src.readline()
        dst.write(header)
        at = header.rstrip("\n").split(",").index("user_id")
        for line in src:
            if line.split(",")[at] in keep:
                dst.write(line)


def exposures(data):
    """{user: set of items} exposed in training."""
    cols = cj.read_columns(os.path.join(data, "train.csv"), ["user_id", "item_id"])
    seen = {}
    for u, i in zip(cols["user_id"], cols["item_id"]):
        seen.setdefault(u, set()).add(i)
    return seen


def test_positives(data, exposed):
    """({user: positives}, {"exposed": ..., "unexposed": ...}) of eval_test.csv."""
    cols = cj.read_columns(os.path.join(data, "eval_test.csv"), ["user_id", "item_id", "finish"])
    pos = {}
    for u, i, f in zip(cols["user_id"], cols["item_id"], cols["finish"]):
        if float(f) > 0:
            pos.setdefault(u, set()).add(i)
    split = {"exposed": {u: {i for i in s if i in exposed.get(u, ())} for u, s in pos.items()},
             "unexposed": {u: {i for i in s if i not in exposed.get(u, ())} for u, s in pos.items()}}
    return pos, split


# ---------------------------------------------------------------------------------------------
# Trainers.

def no_ema_variant(out):
    """damcar.rec with L_sup's weight λ1 = 0 (w/o EMA: L_total = L_ce - λ2 L_dom);
    fails if the model file no longer declares it as expected."""
    with open(DAMCAR) as f:
        text = f.read()
    old = "loss sup = bce_logits(a_t, y_tea) weight 0.7"
    if text.count(old) != 1:
        raise rc.Failure(f"{DAMCAR}: no '{old}' to set to weight 0 (did the model change?)")
    path = os.path.join(out, "models", "damcar_no_ema.rec")

    def make(tmp):
        with open(tmp, "w") as f:
            f.write(text.replace(old, old.replace("weight 0.7", "weight 0   ")))
    rc.cached(path, make, DAMCAR, os.path.abspath(__file__))  # rewritten when this code changes
    return path


def compile_all(recc, out, jobs, rank):
    """{name: (model file, model, trainer)} for every model of the cascade;
    "rank" is the `rank` model of damcar_rank.rec (its trainer named by it)."""
    models = {"rank": (RANK, rank), "damcar": (DAMCAR, "damcar"),
              "damcar_no_ema": (no_ema_variant(out), "damcar"), "damcar_ret": (DAMCAR, "damcar_ret")}
    models.update({m: (BASELINES, m) for m in BASELINE_ROWS})
    names = sorted(models)
    bins = os.path.join(out, "bin")
    binary = lambda n: f"damcar-rank-{rank}" if n == "rank" else f"damcar-{n}"  # noqa: E731
    paths = rc.parallel([lambda n=n: recc.compile(models[n][0], models[n][1],
                                                  os.path.join(bins, binary(n)))
                         for n in names], jobs)
    return {n: models[n] + (p,) for n, p in zip(names, paths)}


def train(trainer, data, seed, stem, cap, stop, extra=()):
    """Trains once into stem.ckpt (skipped when an earlier run's checkpoint is
    newer than the trainer and the data): at most `cap` epochs, evaluated on
    the validation file after each, stopping after PATIENCE evaluations without
    a gain in the metric (`stop`: (validation CSV, metric), recc's own
    --keep-best/--early-stop). Returns the metrics JSON with "ckpt", the best
    epoch's checkpoint, and "epochs_run"."""
    valid, metric = stop
    flags = ["--keep-best", metric, "--early-stop", str(PATIENCE)] + list(extra)
    inputs = [data, valid] + [x for x in extra if os.path.isfile(x)]
    result = rc.trained(stem, trainer, *inputs)
    if result is None:
        result = rc.train(trainer, data, valid, seed, stem + ".train.json", epochs=cap,
                          checkpoint=stem + ".ckpt", extra=flags)
        with open(stem + ".train.json", "w") as f:
            json.dump(result, f)
    best = (result.get("best") or {}).get("path")
    if best != best_ckpt(stem) or not os.path.exists(best):
        raise rc.Failure(f"{stem}: training kept no best checkpoint (--keep-best {metric} on "
                         f"{valid}: {result.get('best')!r}); is the metric undefined there?")
    return dict(result, ckpt=best, epochs_run=result.get("epoch"),
                best_epoch=result["best"].get("epoch"), cap=cap)


def best_ckpt(stem):
    """The best epoch's checkpoint of a model trained into stem.ckpt (recc's
    name for --out's best file, docs/checkpoints.md)."""
    return stem + ".ckpt.best.safetensors"


def epochs_note(result):
    """"ran/cap (best e)" of a train() result, "stopped" when it stopped early."""
    return (f"{result['epochs_run']}/{result['cap']} (best {result['best_epoch']}"
            + (", stopped early)" if result.get("stopped") else ")"))


def predict(trainer, ckpt, data, out, columns):
    """{column: [value per row of data]} of a trained model's predictions."""
    rc.run([trainer, "predict", "--ckpt", ckpt, "--data", data, "--out", out, "--threads", "1"],
           f"predict {os.path.basename(out)}")
    return cj.read_columns(out, columns)


# ---------------------------------------------------------------------------------------------
# Stages 0-4.

def stage_rank(trainers, data, runs, cfg):
    """Stage 0 (one frozen Rank, its best epoch on validation AUC) and its
    y_rank on S_exp(train), S_sam, the random pairs and eval_valid.csv. Returns
    (checkpoint, {part: y_rank list}, its metrics)."""
    trainer = trainers["rank"][2]
    stem = os.path.join(runs, f"rank.seed{RANK_SEED}")
    result = train(trainer, os.path.join(data, "train.csv"), RANK_SEED, stem, cfg["rank_epochs"],
                   (os.path.join(data, "valid.csv"), STOP_METRIC["rank"]))
    scores = {}
    for part, csv in (("exp", "train.csv"), ("sam", "s_sam.csv"), ("rand", "s_rand.csv"),
                      ("valid", "eval_valid.csv")):
        scores[part] = predict(trainer, result["ckpt"], os.path.join(data, csv),
                               os.path.join(runs, f"y_rank.{part}.csv"), ["y_rank"])["y_rank"]
    return result["ckpt"], scores, result


def baseline_inputs(data, runs, y_rank):
    """The baselines' training files (seed-independent), and "valid": the
    retrieval models' validation file, eval_valid.csv (S_exp(val) of
    VALID_USERS users) with every column any of them reads: y_rank, exposed
    = 1 and yhat_gen = 0 (on validation the ground truth is the target; it
    enters only the eval loss, not the AUC)."""
    train_csv, rand = os.path.join(data, "train.csv"), os.path.join(data, "s_rand.csv")
    files = {"exp": train_csv, "valid": os.path.join(runs, "valid_ret.csv")}
    cj.write_stage_input(files["valid"], ST_COLUMNS, [
        (os.path.join(data, "eval_valid.csv"), {"y_rank": y_rank["valid"], "exposed": "1",
                                                "yhat_gen": "0"})])
    unexposed = {"y_rank": y_rank["rand"], "finish": "0", "exposed": "0"}
    for name, parts in (("exp_rank", [(train_csv, {"y_rank": y_rank["exp"], "exposed": "1"})]),
                        ("rand_rank", [(rand, unexposed)]),
                        ("mix", [(train_csv, {"y_rank": y_rank["exp"], "exposed": "1"}),
                                 (rand, unexposed)])):
        path = os.path.join(runs, f"{name}.csv")
        cj.write_stage_input(path, STAGE_COLUMNS, parts)
        files[name] = path
    return files


def stage_generator(trainers, data, runs, cfg, name, seed):
    """Stage 2 and 3's pseudo-labels for one generator and seed: {"exp":
    yhat_s per S_exp(train) row, "target": yhat_t per target-stream row} and
    the training metrics."""
    part, model = GENERATORS[name]
    trainer = trainers[model][2]
    target = os.path.join(data, f"s_{part}.csv")
    stem = os.path.join(runs, f"gen_{name}.seed{seed}")
    result = train(trainer, os.path.join(data, "train.csv"), seed, stem, cfg["gen_epochs"],
                   (os.path.join(data, "valid.csv"), STOP_METRIC["generator"]),
                   ["--stream", f"target={target}"])
    exp = predict(trainer, result["ckpt"], os.path.join(data, "train.csv"),
                  stem + ".yhat_exp.csv", ["yhat_s"])["yhat_s"]
    tgt = predict(trainer, result["ckpt"], target, stem + ".yhat_target.csv",
                  ["yhat_t"])["yhat_t"]
    return {"exp": exp, "target": tgt, "metrics": result}


def st_input(data, runs, key, seed, labels, y_rank, target_part):
    """Stage 3's join: S_T = S_exp(train) ∪ the target rows, with yhat_gen
    (Eq. 12's ŷ; 0 on the exposed rows for w/o MPL) and y_rank."""
    exp_yhat = "0" if key == "wo_mpl" else labels["exp"]
    path = os.path.join(runs, f"st_{key}.seed{seed}.csv")
    cj.write_stage_input(path, ST_COLUMNS, [
        (os.path.join(data, "train.csv"),
         {"yhat_gen": exp_yhat, "y_rank": y_rank["exp"], "exposed": "1"}),
        (os.path.join(data, f"s_{target_part}.csv"),
         {"yhat_gen": labels["target"], "y_rank": y_rank[target_part], "finish": "0",
          "exposed": "0"})])
    return path


# ---------------------------------------------------------------------------------------------
# Evaluation: corpus retrieval, then Rank re-scores the top 200.

def evaluate(recc, trainers, data, runs, key, seed, rank_ckpt, truth):
    """{metric: value} of one trained retrieval model: R/P/F@K over the corpus,
    recall on the exposed and unexposed test positives, and N/M/H@k after
    Rank re-scores the top CANDIDATES."""
    model_file, model, _ = trainers[ROW_MODEL[key]]
    stem = os.path.join(runs, f"{key}.seed{seed}")
    positives, split = truth
    test, items, seen = (os.path.join(data, n) for n in ("eval_test.csv", "items.csv", "train.csv"))
    lists_csv = stem + ".top.csv"
    official = rc.retrieve(recc, model_file, model, best_ckpt(stem), test, items, KS,
                           stem + ".eval.json", exclude_seen=seen, lists_csv=lists_csv,
                           what=f"retrieve {key} seed {seed}")
    lists = cj.read_lists(lists_csv)
    out = cm.retrieval_at_k(lists, positives, KS, split)
    for k in KS:  # the lists must give recc eval's own numbers
        for m in ("recall", "precision"):
            mine, theirs = out[f"{m}@{k}"], official.get(f"{m}@{k}")
            if theirs is None or abs(mine - theirs) > 1e-4:
                raise rc.Failure(f"{key} seed {seed}: {m}@{k} from the top-{CANDIDATES} lists "
                                 f"is {mine}, recc eval --corpus says {theirs}")
    pairs = cj.write_candidates(stem + ".candidates.csv", lists, items)
    scores = predict(trainers["rank"][2], rank_ckpt, stem + ".candidates.csv",
                     stem + ".candidates.y_rank.csv", ["y_rank"])["y_rank"]
    items_by_user, score_by_user = cj.group_scores(pairs, scores)
    ranked = {u: cm.rerank(items_by_user[u], score_by_user[u]) for u in items_by_user}
    out.update(cm.ranking_at_k(ranked, positives, RANK_KS))
    for tmp in (stem + ".candidates.csv", stem + ".candidates.y_rank.csv"):
        os.remove(tmp)
    return out


ROW_MODEL = {key: model for key, _, model, _, _ in ROWS}


def train_ret(trainers, files, runs, cfg, key, seed):
    """Stage 4 (or a baseline) for one row and seed; TL starts from BC's
    best checkpoint of the same seed (train it first)."""
    _, _, model, data, _ = next(r for r in ROWS if r[0] == key)
    stem = os.path.join(runs, f"{key}.seed{seed}")
    extra = ["--init-from", best_ckpt(os.path.join(runs, f"bc.seed{seed}"))] if key == "tl" else []
    return train(trainers[model][2], files[data if data != "st" else key], seed, stem,
                 cfg["ret_epochs"], (files["valid"], STOP_METRIC["ret"]), extra)


def run_rows(recc, trainers, data, runs, cfg, jobs, base_files, rank, truth):
    """Stages 2-4 and the evaluation of every row and seed, `jobs` at a time:
    the generators first, then every retrieval model (TL last: it starts from
    BC). Returns ({row: [result per seed]}, {generator: [AUC per seed]})."""
    rank_ckpt, y_rank = rank
    seeds = cfg["seeds"]
    gens = [(g, s) for s in seeds for g in GENERATORS]
    labels = dict(zip(gens, rc.parallel(
        [lambda g=g, s=s: stage_generator(trainers, data, runs, cfg, g, s) for g, s in gens], jobs)))

    def row(key, seed):
        _, _, _, kind, gen = next(r for r in ROWS if r[0] == key)
        files = dict(base_files)
        if kind == "st":
            files[key] = st_input(data, runs, key, seed, labels[(gen, seed)], y_rank,
                                  GENERATORS[gen][0])
        trained = train_ret(trainers, files, runs, cfg, key, seed)
        if kind == "st":
            os.remove(files[key])  # S_T files are large; the checkpoints stay
        metrics = evaluate(recc, trainers, data, runs, key, seed, rank_ckpt, truth)
        return key, {"seed": seed, "train_seconds": trained["train_seconds"],
                     "train_auc": trained["metrics"].get("auc"),
                     "valid_" + STOP_METRIC["ret"]: trained["best"].get("value"),
                     "epochs": trained["epochs_run"], "best_epoch": trained["best_epoch"],
                     "epoch_cap": trained["cap"], "stopped_early": bool(trained.get("stopped")),
                     **metrics}

    # S_T rows (the largest data) first, so that the short ones fill the end.
    order = [k for k, *_ in ROWS if k != "tl"]
    order.sort(key=lambda k: next(r[3] for r in ROWS if r[0] == k) != "st")
    done = rc.parallel([lambda k=k, s=s: row(k, s) for k in order for s in seeds], jobs)
    done += rc.parallel([lambda s=s: row("tl", s) for s in seeds], jobs)
    results = {key: [] for key, *_ in ROWS}
    for key, result in sorted(done, key=lambda kr: kr[1]["seed"]):
        results[key].append(result)
    gens = {g: [labels[(g, s)]["metrics"] for s in seeds] for g in GENERATORS}
    return results, gens


# ---------------------------------------------------------------------------------------------
# Results.

def aggregate(key, label, runs, rank):
    """One row's entry of the JSON; the paper's numbers only for Rank = DeepFM
    (Table 2): the DCN setting's Table 3 has none."""
    entry = {"label": label, "model": ROW_MODEL[key]}
    for metric in METRICS:
        entry[metric], entry[metric + "_spread"] = rc.spread([r.get(metric) for r in runs])
    entry["epochs"] = [r["epochs"] for r in runs]
    entry["seeds"] = runs
    if key in PAPER and rank == "deepfm":
        entry["paper"] = dict(zip(RET_METRICS + RANK_METRICS, PAPER[key]))
    return entry


def print_tables(results, rank):
    table = ("Table 2 (WeChat)" if rank == "deepfm" else
             f"Table 3 setting (Rank = {RANK_LABEL[rank]}; the paper gives no numbers for it: "
             "only the table's caption survives, and its text says DAMCAR again beats every "
             "baseline)")
    for title, metrics in (("retrieval stage", RET_METRICS), ("ranking stage (Rank re-scores "
                                                              f"the top {CANDIDATES})", RANK_METRICS)):
        rows = []
        for key, label, *_ in ROWS:
            r = results[key]
            cells = [label]
            for m in metrics:
                paper = r.get("paper", {}).get(m)
                cells.append(("—" if paper is None else f"{paper:.4f}") + " | "
                             + rc.fmt_pm(r[m], r[m + "_spread"]))
            rows.append(cells)
        header = ["method"] + [m.replace("recall", "R").replace("precision", "P")
                               .replace("f1", "F").replace("ndcg", "N").replace("map", "M")
                               .replace("h_paper", "H") for m in metrics]
        rc.print_table(f"{table}, {title}: paper | recc (mean ± sample std over seeds)",
                       header, rows)
    split = ["recall@100/exposed", "recall@100/unexposed", "recall@200/exposed",
             "recall@200/unexposed"]
    rc.print_table("Recall on the test positives exposed to the user in training and on the "
                   "unexposed ones (not in the paper)", ["method"] + split,
                   [[label] + [rc.fmt_pm(results[k][m], results[k][m + "_spread"]) for m in split]
                    for k, label, *_ in ROWS])


def gain(results, a, b, metric):
    """Relative gain (%) of row a over row b on `metric`, None if either is
    unknown or b is 0."""
    x, y = results[a][metric], results[b][metric]
    return None if x is None or not y else (x / y - 1) * 100


def above(results, a, b, metric):
    """Whether row a's mean beats row b's (False when either is unknown)."""
    x, y = results[a][metric], results[b][metric]
    return x is not None and y is not None and x > y


def check_claims(results, rank):
    """The paper's claims. Its figures are Table 2's (DeepFM); with another
    Rank (Table 3, no numbers), its text says DAMCAR again beats every
    baseline, and the same claims are checked, marked with the ranker."""
    claims = rc.Claims()
    prefix = "" if rank == "deepfm" else f"[Rank = {RANK_LABEL[rank]}; figures of Table 2] "

    def check(claim, *rest):
        claims.check(prefix + claim, *rest)
    show = lambda k, m: f"{results[k]['label']} {rc.fmt(results[k][m])}"  # noqa: E731
    noise = lambda a, b, m: (results[a][m] is not None and results[b][m] is not None  # noqa: E731
                             and rc.difference_within_noise(results[a], results[b], m))
    for m in ("recall@100", "recall@200"):
        best = max(("ar", "muda"), key=lambda k: results[k][m] or 0)
        check(f"DAMCAR > the best of AR and MUDA on {m} (paper WeChat: +7.4% at R@100, "
              "+4.5% at R@200)", above(results, "damcar", best, m),
              f"{show('damcar', m)}, {show(best, m)}", noise("damcar", best, m))
        g = gain(results, "damcar", "bc", m)
        check(f"DAMCAR well above BC on {m} (at least +10%; paper WeChat +19.5% at R@100, "
              "+14.8% at R@200)", g is not None and g >= 10,
              f"{show('damcar', m)}, {show('bc', m)}: {rc.fmt(g, 1)}%",
              noise("damcar", "bc", m))
    best = max(BASELINE_ROWS, key=lambda k: results[k]["ndcg@10"] or 0)
    check("DAMCAR > every baseline on N@10 after Rank (paper WeChat: +16.9% over AR)",
          above(results, "damcar", best, "ndcg@10"),
          f"{show('damcar', 'ndcg@10')}, best baseline {show(best, 'ndcg@10')}",
          noise("damcar", best, "ndcg@10"))
    un, ex = (gain(results, "damcar", "bc", f"recall@200/{s}") for s in ("unexposed", "exposed"))
    check("DAMCAR gains over BC, and most on the unexposed test positives (R@200)",
          un is not None and ex is not None and un > 0 and un > ex,
          f"unexposed {rc.fmt(un, 1)}%, exposed {rc.fmt(ex, 1)}%")
    for key in ABLATIONS:
        for m in ("ndcg@10", "recall@200"):
            check(f"{results[key]['label']} loses to DAMCAR on {m} (Fig. 3)",
                  above(results, "damcar", key, m),
                  f"{show('damcar', m)}, {show(key, m)}", noise("damcar", key, m))
    return claims


def validate(path, seeds):
    """Raises Failure unless `path` holds a complete result: every row with
    every metric a number in [0, 1] from `seeds` seeds, the paper's numbers
    where the paper has them, the stages and the claims."""
    with open(path) as f:
        data = json.load(f)
    problems = []
    rank = (data.get("config") or {}).get("rank")
    if rank not in RANK_LABEL:
        problems.append(f"config: rank {rank!r}, expected one of {', '.join(RANK_LABEL)}")
    for key, *_ in ROWS:
        r = rc.checked_row(data, key, METRICS, seeds, problems)
        if r is None:
            continue
        want = sorted(RET_METRICS + RANK_METRICS) if key in PAPER and rank == "deepfm" else []
        if sorted(r.get("paper") or {}) != want:
            problems.append(f"{key}: the paper's numbers are " + ("missing" if want else
                            f"there, but Rank = {rank} has none"))
        if len(r.get("epochs") or []) != seeds or not all(
                isinstance(e, int) and e >= 1 for e in r.get("epochs") or []):
            problems.append(f"{key}: epochs run {r.get('epochs')!r}")
    stages = data.get("stages") or {}
    if not isinstance(stages.get("rank_auc"), float):
        problems.append(f"stages: Rank's validation AUC {stages.get('rank_auc')!r}")
    if not isinstance((stages.get("rank_epochs") or {}).get("ran"), int):
        problems.append(f"stages: Rank's epochs {stages.get('rank_epochs')!r}")
    for g in GENERATORS:
        for what in ("generator_auc", "generator_epochs"):
            if len((stages.get(what) or {}).get(g) or []) != seeds:
                problems.append(f"stages: {what} of '{g}' missing for some seed")
    rc.finish_validation(path, data, problems, 12, f"{len(ROWS)} rows, {seeds} seeds")


def stages(rank_result, gens, y_rank, truth):
    """The JSON's "stages": Rank's and the generators' best validation AUC
    and epochs run, and the sizes of the stages' data."""
    epochs = lambda r: {"ran": r["epochs_run"], "best": r["best_epoch"], "cap": r["cap"]}  # noqa
    return {"rank_auc": rank_result["best"].get("value"), "rank_epochs": epochs(rank_result),
            "rank_train_seconds": rank_result["train_seconds"],
            "generator_auc": {g: [r["best"].get("value") for r in rs] for g, rs in gens.items()},
            "generator_epochs": {g: [epochs(r) for r in rs] for g, rs in gens.items()},
            "s_sam_rows": len(y_rank["sam"]), "s_rand_rows": len(y_rank["rand"]),
            "s_exp_train_rows": len(y_rank["exp"]), "test_users": len(truth[0])}


def print_epochs(rank_result, gens, runs_by_row, cfg):
    """How many epochs each model ran (of its cap) and which it kept."""
    rows = [["Rank", epochs_note(rank_result)]]
    rows += [[f"generator ({g})", ", ".join(epochs_note(r) for r in rs)] for g, rs in gens.items()]
    for key, label, *_ in ROWS:
        rows.append([label, ", ".join(f"{r['epochs']}/{r['epoch_cap']} (best {r['best_epoch']}"
                                      + (", stopped early)" if r["stopped_early"] else ")")
                                      for r in runs_by_row[key])])
    rc.print_table(f"Epochs run per seed, of the cap (early stopping on validation AUC, "
                   f"S_exp(val), patience {PATIENCE}; the best epoch's checkpoint is kept)",
                   ["model", "epochs"], rows)


def run(a, cfg, recc):
    rc.log(f"DAMCAR reproduction ({'quick' if a.quick else 'full'}, Rank = "
           f"{RANK_LABEL[a.rank]}): {cfg['users']} users, "
           f"{cfg['items']} videos, {cfg['eval_users']} test users, seeds {cfg['seeds']}, "
           f"{a.jobs} jobs")
    data = generate(a.build, a.out, cfg)
    trainers = compile_all(recc, a.out, a.jobs, a.rank)
    caps = "-".join(str(cfg[f"{s}_epochs"]) for s in ("rank", "gen", "ret"))
    runs = os.path.join(a.out, "runs", f"{os.path.basename(data)}-{a.rank}-cap{caps}")
    os.makedirs(runs, exist_ok=True)
    rank_ckpt, y_rank, rank_result = stage_rank(trainers, data, runs, cfg)
    base_files = baseline_inputs(data, runs, y_rank)
    truth = test_positives(data, exposures(data))
    runs_by_row, gens = run_rows(recc, trainers, data, runs, cfg, a.jobs, base_files,
                                 (rank_ckpt, y_rank), truth)
    results = {key: aggregate(key, label, runs_by_row[key], a.rank) for key, label, *_ in ROWS}
    results["stages"] = stages(rank_result, gens, y_rank, truth)
    print(f"\nRank ({RANK_LABEL[a.rank]}) validation AUC {rc.fmt(results['stages']['rank_auc'])}"
          f" (best epoch); |S_exp(train)| {len(y_rank['exp'])}, |S_sam| {len(y_rank['sam'])}; "
          f"{len(truth[0])} test users")
    print_epochs(rank_result, gens, runs_by_row, cfg)
    print_tables(results, a.rank)
    paper = {"table2_wechat": {k: dict(zip(RET_METRICS + RANK_METRICS, v)) for k, v in PAPER.items()},
             "table2_tiktok": {k: dict(zip(RET_METRICS + RANK_METRICS, v))
                               for k, v in PAPER_TIKTOK.items()}}
    return results, paper, check_claims(results, a.rank)


def options(parser):
    parser.add_argument("--rank", choices=sorted(RANK_LABEL), default="deepfm",
                        help="the frozen ranker of the cascade: deepfm (the paper's Table 2, "
                             "out/reproduce/damcar.json) or dcn (Table 3, whose numbers the "
                             "paper lost; out/reproduce/damcar_dcn.json)")


def config(a):
    return {"walk": WALK, "k": KS, "rank_k": RANK_KS, "candidates": CANDIDATES,
            "exclude_seen": "training positives", "rank": a.rank, "rank_seed": RANK_SEED,
            "patience": PATIENCE, "stop_metric": STOP_METRIC,
            "json_name": "damcar" if a.rank == "deepfm" else f"damcar_{a.rank}"}


if __name__ == "__main__":
    sys.exit(rc.main("damcar", __doc__, FULL, QUICK, run, validate, DATA_SEED, config=config,
                     options=options))
