"""The parts of a paper reproduction that do not depend on the paper.

A reproduction (scripts/lib/reproduce_<paper>.py, started by
scripts/reproduce.sh) generates data once per size and seed, compiles each
model once into a standalone trainer (`recc compile`, so the seeds do not pay
for JIT compilation again), trains every model with several seeds, and
compares the measured metrics with the paper's. This module holds the
machinery: running commands, compiling and training, aggregating over seeds,
printing tables, recording claims and writing the result JSON. Standard
library only.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor


class Failure(Exception):
    """A step of the reproduction failed; the message says which and why."""


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(cmd, what, cwd=None, output_to=None):
    """Runs `cmd` (a list); returns its stdout. Raises Failure with the tail of
    its output when it exits non-zero. `output_to`: a file that keeps its
    stdout and stderr (a generator's summary)."""
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if output_to:
        with open(output_to, "w") as f:
            f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise Failure(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    log(f"  {what}: {time.monotonic() - started:.1f} s")
    return proc.stdout


def cached(path, make, *inputs):
    """Calls make(tmp) to build `path` (through a temporary name, renamed when
    done) unless `path` exists and is newer than every file in `inputs`."""
    if os.path.exists(path) and all(os.path.getmtime(path) >= os.path.getmtime(i)
                                    for i in inputs):
        return False
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    make(tmp)
    os.replace(tmp, path)
    return True


class Recc:
    """The recc driver of a build directory."""

    def __init__(self, build):
        self.build = build
        self.binary = os.path.join(build, "compiler", "tools", "recc")
        if not os.access(self.binary, os.X_OK):
            raise Failure(f"{self.binary} is missing: build recc first (scripts/build.sh)")

    def compile(self, model_file, model, out, batch=None):
        """A standalone trainer for `model` at `out`, rebuilt only when the
        model file or recc changed."""
        def make(tmp):
            cmd = [self.binary, "compile", model_file, "--model", model, "-o", tmp]
            if batch:
                cmd += ["--batch", str(batch)]
            run(cmd, f"compile {model}")
        cached(out, make, model_file, self.binary)
        return out


def train(trainer, train_csv, test_csv, seed, metrics_json, threads=1, epochs=None,
          checkpoint=None, extra=()):
    """Trains one seed with a compiled trainer and returns its metrics JSON;
    `test_csv`: the evaluation data (None: none); `checkpoint`: where to write
    the trained weights; `extra`: more flags (e.g. --init-from FILE)."""
    cmd = [trainer, "train", "--data", train_csv, "--seed", str(seed),
           "--threads", str(threads), "--metrics-json", metrics_json] + list(extra)
    if test_csv:
        cmd += ["--eval-data", test_csv]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    if checkpoint:
        cmd += ["--out", checkpoint]
    started = time.monotonic()
    run(cmd, f"train {os.path.basename(trainer)} seed {seed}")
    with open(metrics_json) as f:
        result = json.load(f)
    result["train_seconds"] = round(time.monotonic() - started, 1)
    return result


def trained(stem, trainer, *inputs):
    """The metrics of an earlier training (stem.ckpt, stem.train.json) whose
    checkpoint is newer than the trainer and the data, else None (so that a
    rerun, e.g. after a failed evaluation, only evaluates)."""
    files = [stem + ".ckpt", stem + ".train.json"]
    if not all(os.path.exists(f) for f in files):
        return None
    oldest = min(os.path.getmtime(f) for f in files)
    if any(os.path.getmtime(i) > oldest for i in (trainer,) + inputs):
        return None
    with open(stem + ".train.json") as fh:
        result = json.load(fh)
    return result if "train_seconds" in result else None


def corpus_metrics(metrics, ks=(100, 200), names=("hitrate", "precision", "recall")):
    """{"recall@100": ..., ...} from `recc eval --corpus`'s metrics JSON."""
    by_k = metrics.get("retrieval", {}).get("k", {})
    return {f"{m}@{k}": by_k.get(str(k), {}).get(m) for k in ks for m in names}


def retrieve(recc, model_file, model, ckpt, test, corpus, ks, metrics_json, exclude_seen=None,
             lists_csv=None, what="retrieve", keys=()):
    """Retrieval over the whole corpus (docs/retrieval.md) for the users of
    `test`: `recc eval --corpus`'s metrics at `ks` (corpus_metrics), and with
    `lists_csv` also each user's list of max(ks) items (`recc predict
    --corpus`) written there. `keys`: flags naming the user and item keys
    where the towers read none (--user-key U --item-key I)."""
    common = ["--model", model, "--ckpt", ckpt, "--data", test, "--corpus", corpus,
              "--threads", "1"] + (["--exclude-seen", exclude_seen] if exclude_seen else [])
    common += list(keys)
    run([recc.binary, "eval", model_file] + common + ["--k", ",".join(map(str, ks)),
                                                      "--metrics-json", metrics_json], what)
    if lists_csv:
        run([recc.binary, "predict", model_file] + common + ["--k", str(max(ks)),
                                                             "--out", lists_csv], what + " (lists)")
    with open(metrics_json) as f:
        return corpus_metrics(json.load(f), ks)


def parallel(jobs, workers):
    """Runs the callables in `jobs` on `workers` threads (each mostly waits on
    a subprocess); returns their results in order. Every job runs even if one
    fails; then the first failure is raised with the count of failures."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(job) for job in jobs]
        results, errors = [], []
        for f in futures:
            try:
                results.append(f.result())
            except Failure as e:
                results.append(None)
                errors.append(str(e))
    if errors:
        raise Failure(f"{len(errors)} of {len(jobs)} jobs failed; the first:\n{errors[0]}")
    return results


def spread(values):
    """Mean and sample standard deviation (0 for a single value) of the
    finite values; (None, None) if there are none."""
    xs = [v for v in values if v is not None and math.isfinite(v)]
    if not xs:
        return None, None
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def rela_impr(auc, base):
    """RelaImpr (%) of `auc` over `base` (the paper's Eq. 13); None when the
    base is no better than chance, where the ratio means nothing."""
    if auc is None or base is None or base <= 0.5:
        return None
    return ((auc - 0.5) / (base - 0.5) - 1) * 100


def fmt(value, digits=4):
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_pm(mean, sd, digits=4):
    return "—" if mean is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def print_table(title, header, rows):
    """A plain-text table, columns right-aligned but the first."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header] + rows:
        cells = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(r)]
        print("  " + "  ".join(cells))


class Claims:
    """The paper's claims, each checked on the measured numbers; a claim that
    does not hold is reported as a finding."""

    def __init__(self):
        self.items = []

    def check(self, claim, holds, detail, within_noise=False):
        """`within_noise`: the measured difference is smaller than the seeds
        can resolve (see `difference_within_noise`), so whichever way it goes
        it neither confirms nor refutes the claim; it is marked `~`."""
        self.items.append({"claim": claim, "reproduces": bool(holds), "detail": detail,
                           "within_noise": bool(within_noise)})

    def print(self):
        print("\nThe paper's claims on this data ([~] = the difference is within the seeds' noise):")
        for c in self.items:
            mark = "~" if c["within_noise"] else ("yes" if c["reproduces"] else "NO ")
            print(f"  [{mark:3}] {c['claim']}: {c['detail']}")


def difference_within_noise(a, b, key="auc"):
    """Whether two results' means (each {key, key + "_spread", "seeds"})
    differ by less than two standard errors of their difference, the standard
    error taken from the sample standard deviations over seeds."""
    n = max(1, len(a.get("seeds") or [None]))
    sa, sb = a.get(key + "_spread") or 0.0, b.get(key + "_spread") or 0.0
    return abs(a[key] - b[key]) < 2 * math.sqrt((sa ** 2 + sb ** 2) / n)


def write_json(path, value):
    """Writes `value` as JSON atomically (temporary file, then rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(value, f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)



def checked_row(data, key, metrics, seeds, problems):
    """Row `key` of a reproduction's JSON with the checks every paper makes:
    present, each of `metrics` a number in [0, 1], one entry per seed. Adds
    what fails to `problems`; returns the row, or None when it is missing."""
    row = data.get(key)
    if not isinstance(row, dict):
        problems.append(f"{key}: missing")
        return None
    for metric in metrics:
        if not isinstance(row.get(metric), float) or not 0 <= row[metric] <= 1:
            problems.append(f"{key}: {metric} {row.get(metric)!r} is not a number in [0, 1]")
    if len(row.get("seeds", [])) != seeds:
        problems.append(f"{key}: {len(row.get('seeds', []))} seeds, expected {seeds}")
    return row


def finish_validation(path, data, problems, min_claims, counted):
    """The end of every reproduction's validate(): the claims must be at least
    `min_claims` judged ones; raises Failure listing `problems` (the caller's
    checks of its rows) if any, else prints that `path` is complete."""
    claims = data.get("claims")
    if not isinstance(claims, list) or len(claims) < min_claims or \
            not all(isinstance(c.get("reproduces"), bool) for c in claims):
        problems.append(f"claims: {claims!r:.200}")
    if problems:
        raise Failure(f"{path} is incomplete:\n  " + "\n  ".join(problems))
    print(f"{path}: complete ({counted}, {len(claims)} claims)")


def main(paper, doc, full, quick, run, validate, data_seed, config=None, options=None):
    """The command line every reproduction shares:
      reproduce_PAPER.py --build DIR [--quick] [--out DIR] [--jobs N]
      reproduce_PAPER.py --validate FILE [--seeds N]
    `run(args, cfg, recc)` generates the data, trains and measures, prints the
    paper's tables beside recc's and returns (results, the paper's numbers,
    Claims); this prints the claims, writes OUT/PAPER.json with the config and
    the time taken (plus `config`, what else describes the run: a dict, or a
    function of the parsed arguments returning one), and checks it with
    `validate(path, seeds)`. `options(parser)`: adds the paper's own flags; a
    `json_name` in the config names the result file instead of PAPER.json.
    Returns the process's exit status."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="out/reproduce")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--validate", metavar="FILE")
    ap.add_argument("--seeds", type=int, default=len(full["seeds"]))
    ap.add_argument("--seed-count", type=int, metavar="N",
                    help="run only the first N seeds of the configuration (a shorter run; "
                         "the JSON's config records the seeds run)")
    if options:
        options(ap)
    a = ap.parse_args()
    try:
        if a.validate:
            validate(a.validate, a.seeds)
            return 0
        cfg = quick if a.quick else full
        if a.seed_count:
            if not 1 <= a.seed_count <= len(cfg["seeds"]):
                raise Failure(f"--seed-count {a.seed_count}: the configuration has seeds "
                              f"{cfg['seeds']}")
            cfg = dict(cfg, seeds=cfg["seeds"][:a.seed_count])
        started = time.monotonic()
        results, paper_numbers, claims = run(a, cfg, Recc(a.build))
        claims.print()
        minutes = (time.monotonic() - started) / 60
        out = dict(results)
        out["paper"] = paper_numbers
        out["claims"] = claims.items
        extra = (config(a) if callable(config) else config) or {}
        out["config"] = dict(cfg, **extra, quick=a.quick, data_seed=data_seed,
                             backend="mlir", minutes=round(minutes, 1))
        path = os.path.join(a.out, f"{extra.get('json_name', paper)}.json")
        write_json(path, out)
        print(f"\nwrote {path} ({minutes:.1f} minutes)")
        validate(path, len(cfg["seeds"]))
        return 0
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
