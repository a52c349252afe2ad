#!/usr/bin/python3
"""bench/run_all.py: every paper model side by side with its PyTorch peer, in one table.

Runs each paper's side-by-side script (bench/run_*.sh) one after another, never two at once,
with the same repeats and thread count; reads the summary each writes through side_by_side.py
(out/bench/MODEL/summary.json); measures the data reader's rate (build/bench/read_rate) and the
time from .rec to a JIT-ready training step of every model of every models/*.rec file; and
writes one table as Markdown (out/bench/all.md, also printed) and JSON (out/bench/all.json).
bench/run_all.sh is the entry point; bench/README.md ("Every model in one table") explains the
columns.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import all_table  # noqa: E402
import torch_common  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECC = "build/compiler/tools/recc"
OUT = "out/bench"


def scripts(a):
    """(name, command, summary files) of every side-by-side script, in the order they run, with
    each script's default steps and warm-ups (3 and 1 with --quick)."""
    def sized(steps, warmup):
        steps, warmup = (3, 1) if a.quick else (steps, warmup)
        return ["--repeats", str(a.repeats), "--threads", str(a.threads), "--steps", str(steps),
                "--warmup", str(warmup)]

    def summary(*names):
        return [f"{OUT}/{n}/summary.json" for n in names]

    esm_steps = "3" if a.quick else "50"
    esm_flags = ["--repeats", str(a.repeats), "--warmup", "1" if a.quick else "5"]
    quick_sarnet = ["--train-rows", "8192"] if a.quick else []
    quick_retrieval = ["--items", "30000", "--users", "2000"] if a.quick else []
    return [
        ("esm2", ["bench/run_esm2.sh", "esm2", str(a.threads), esm_steps] + esm_flags,
         summary("esm2")),
        ("esmm", ["bench/run_esm2.sh", "esmm", str(a.threads), esm_steps] + esm_flags,
         summary("esmm")),
        ("sarnet", ["bench/run_sarnet.sh", "--skip-train"] + sized(10, 2) + quick_sarnet,
         summary("sarnet")),
        ("zeus_pretrain", ["bench/run_zeus.sh", "--stage", "pretrain", "--skip-train"]
         + sized(10, 2), summary("zeus_pretrain")),
        ("zeus_finetune", ["bench/run_zeus.sh", "--stage", "finetune", "--skip-train"]
         + sized(10, 2), summary("zeus_finetune")),
        ("uma2", ["bench/run_uma2.sh"] + sized(40, 5), summary("uma2")),
        ("damcar", ["bench/run_damcar.sh"] + sized(100, 10),
         summary("damcar/damcar", "damcar/damcar_ret")),
        ("retrieval", ["bench/run_retrieval.sh", "--repeats", str(a.repeats), "--threads",
                       str(a.threads)] + quick_retrieval, summary("retrieval")),
    ]


# ---------------------------------------------------------------------------------------------
# The machine: load average, and the CPU time other processes took while a script ran.

def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def under_watch(fn, *args):
    """fn(*args) and how busy the machine was meanwhile: load average before and after, and
    the other processes' share of the CPU (torch_common.OtherLoad over our children)."""
    before, share = load_average(), torch_common.OtherLoad(children=True)
    result = fn(*args)
    return result, {"load_before": before, "load_after": load_average(),
                    "other_share": round(share.fraction(), 3)}


def run_logged(cmd, log, timeout=None):
    """Runs cmd from the repository root with its output in `log`; returns the exit status."""
    with open(log, "w") as f:
        try:
            return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write(f"\nrun_all: timed out after {timeout} s\n")
            return 124


# ---------------------------------------------------------------------------------------------
# The three parts of the table.

def side_by_side(specs, logs):
    """Runs each (name, command, summary files) in turn; one result per summary file."""
    runs = []
    for name, cmd, summaries in specs:
        for path in summaries:
            if os.path.exists(os.path.join(ROOT, path)):
                os.remove(os.path.join(ROOT, path))
        print(f"run_all: {' '.join(cmd)}", file=sys.stderr, flush=True)
        before, share, t = load_average(), torch_common.OtherLoad(children=True), time.perf_counter()
        status = run_logged(cmd, f"{logs}/{name}.log")
        common = {"script": " ".join(cmd), "log": f"{logs}/{name}.log", "load_before": before,
                  "load_after": load_average(), "other_share": round(share.fraction(), 3),
                  "seconds": round(time.perf_counter() - t, 1)}
        for path in summaries:
            run = {"name": os.path.basename(os.path.dirname(path)), **common}
            try:
                with open(os.path.join(ROOT, path)) as f:
                    run["summary"] = json.load(f)
                run["name"] = run["summary"].get("title", run["name"])
            except OSError:
                run["error"] = f"exit status {status}, no {path} (see {common['log']})"
            runs.append(run)
            print(f"run_all: {run['name']}: {run.get('error', 'done')}, other processes "
                  f"{run['other_share']:.0%}", file=sys.stderr, flush=True)
    return runs


def parse_read_rate(text):
    """read_rate's rows: file, format, text MB, rows, then inflate/parse/chunks 'N MB/s'."""
    files = []
    for line in text.splitlines():
        m = re.match(r"(\S+)\s+(\w+)\s+([\d.]+)\s+(\d+)\s+([\d.]+) MB/s\s+([\d.]+) MB/s\s+"
                     r"([\d.]+) MB/s", line)
        if m:
            files.append({"file": m[1], "format": m[2], "text_mb": float(m[3]), "rows": int(m[4]),
                          "inflate": float(m[5]), "parse": float(m[6]), "chunks": float(m[7])})
    return files


def read_rate(a, logs):
    """The reader's MB/s on one core: a gen_funnel CSV, and gzip -1 / zstd -3 copies where
    those tools exist (bench/README.md, "Data reader rate")."""
    rows = 50000 if a.quick else 500000
    csv = f"{OUT}/all/funnel_{rows}.csv"
    if run_logged(["build/examples/gen_funnel", "--out", csv, "--rows", str(rows), "--seed", "1"],
                  f"{logs}/gen_funnel.log"):
        return {"error": f"gen_funnel failed (see {logs}/gen_funnel.log)"}
    files = [csv]
    for tool, flag, ext in (("gzip", "-1", "gz"), ("zstd", "-3", "zst")):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode == 0:
            subprocess.run(["sh", "-c", f"{tool} {flag} -c {csv} > {csv}.{ext}"], cwd=ROOT,
                           check=True, stderr=subprocess.DEVNULL)
            files.append(f"{csv}.{ext}")
    cmd = ["build/bench/read_rate", "--rounds", "1" if a.quick else "3", "--threads", "1"] + files
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if run.returncode:
        return {"error": f"read_rate failed: {run.stderr.strip()[-300:]}"}
    return {"command": " ".join(cmd), "rows": rows, "threads": 1,
            "files": parse_read_rate(run.stdout)}


def models_of(path):
    """The models of a .rec file, from `recc check --ast` (top-level `Model 'name' @l:c`)."""
    run = subprocess.run([RECC, "check", path, "--ast"], cwd=ROOT, capture_output=True, text=True)
    return re.findall(r"^  Model '([^']+)'", run.stdout, re.M)


def compile_one(path, model, threads, tmp):
    """Front end (`recc check`: parse, checks, autodiff, plan) and JIT (`recc bench`'s
    compile_seconds for the MLIR training step) of one model, in seconds."""
    t = time.perf_counter()
    check = subprocess.run([RECC, "check", path, "--model", model], cwd=ROOT, capture_output=True,
                           text=True)
    row = {"file": path, "model": model, "frontend_s": round(time.perf_counter() - t, 3)}
    if check.returncode:
        return {**row, "error": (check.stderr or check.stdout).strip().splitlines()[0]}
    run = subprocess.run([RECC, "bench", path, "--model", model, "--backends", "mlir", "--steps",
                          "1", "--warmup", "0", "--threads", str(threads), "--json", tmp],
                         cwd=ROOT, capture_output=True, text=True)
    try:
        with open(os.path.join(ROOT, tmp)) as f:
            result = json.load(f)["results"][0]
        os.remove(os.path.join(ROOT, tmp))
    except (OSError, ValueError, IndexError, KeyError):
        return {**row, "error": (run.stderr or run.stdout).strip()[-200:] or "no result"}
    if "error" in result:
        return {**row, "error": result["error"]}
    jit = result["compile_seconds"]
    return {**row, "jit_s": round(jit, 3), "total_s": round(row["frontend_s"] + jit, 3)}


def compile_times(a):
    rows = []
    for path in sorted(f"models/{f}" for f in os.listdir(os.path.join(ROOT, "models"))
                       if f.endswith(".rec")):
        models = models_of(path)
        for model in models[:1] if a.quick else models:
            rows.append(compile_one(path, model, a.threads, f"{OUT}/all/compile.json"))
            r = rows[-1]
            print(f"run_all: compile {path} {model}: "
                  + (f"{r['total_s']:.2f} s" if "total_s" in r else r["error"]),
                  file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------------------------------------

def machine():
    with open("/proc/cpuinfo") as f:
        text = f.read()
    cpu = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    return {"cpu": cpu[1] if cpu else "?", "cores": os.cpu_count(),
            "avx512": " avx512f" in text}


def coretype_summary(runs):
    """Which OpenBLAS core the peers ran, over every run (normally one)."""
    chosen = sorted({f"{r['summary'].get('coretype_chosen')} → core {r['summary'].get('openblas_core')}"
                     for r in runs if r.get("summary")})
    return "OpenBLAS core type chosen: " + ", ".join(chosen) if chosen else ""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int,
                   help="interleaved repeats per model (default 3; 1 with --quick)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true",
                   help="tiny steps, one repeat, small retrieval and reader data, one model "
                        "per .rec file in the compile table: checks the script, measures nothing")
    p.add_argument("--only", help="comma-separated parts: side-by-side names (esm2, esmm, "
                                  "sarnet, zeus_pretrain, zeus_finetune, uma2, damcar, "
                                  "retrieval), reader, compile")
    a = p.parse_args()
    if a.repeats is None:
        a.repeats = 1 if a.quick else 3
    if a.repeats < 1 or a.threads < 1:
        p.error("--repeats and --threads must be at least 1")
    names = [s[0] for s in scripts(a)] + ["reader", "compile"]
    a.only = a.only.split(",") if a.only else names
    unknown = [n for n in a.only if n not in names]
    if unknown:
        p.error(f"--only: unknown part(s) {', '.join(unknown)} (known: {', '.join(names)})")
    for tool in (RECC, "build/bench/read_rate", "build/examples/gen_funnel"):
        if not os.access(os.path.join(ROOT, tool), os.X_OK):
            p.error(f"{tool} is missing; build first (scripts/build.sh)")
    return a


def measure(a, logs):
    now = lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = {"started": now(), "quick": a.quick, "repeats": a.repeats, "threads": a.threads,
               "machine": machine()}
    results["runs"] = side_by_side([s for s in scripts(a) if s[0] in a.only],
                                   os.path.join(ROOT, logs))
    results["coretype_summary"] = coretype_summary(results["runs"])
    results["read_rate"], results["compile"], results["load"] = None, [], {}
    if "reader" in a.only:
        results["read_rate"], results["load"]["reader"] = under_watch(read_rate, a, logs)
    if "compile" in a.only:
        results["compile"], results["load"]["compile"] = under_watch(compile_times, a)
    results["finished"] = now()
    results["flags"] = all_table.flags(results)
    return results


def main():
    a = parse_args()
    logs = f"{OUT}/all"
    os.makedirs(os.path.join(ROOT, logs), exist_ok=True)
    results = measure(a, logs)
    text = all_table.markdown(results)
    with open(os.path.join(ROOT, OUT, "all.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ROOT, OUT, "all.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(text)
    print(f"written: {OUT}/all.md, {OUT}/all.json", file=sys.stderr)


if __name__ == "__main__":
    main()
