"""bench/torch_common.py: what the PyTorch peers (torch_esm2.py, torch_sarnet.py) share.

Setting torch up as a knowledgeable user would (OMP_WAIT_POLICY, thread counts, OpenBLAS's
core type, checked for correct results against a double-precision product), reporting which
BLAS torch really calls, the machine's SGEMM rate, how busy other processes kept the machine,
and the process's peak RSS. See bench/README.md.

Import order matters: call `configure_environment(args, tag)` before `import torch`, because
libgomp and OpenBLAS read their environment once, when their shared objects load. Every other
function here imports torch itself.
"""

import ctypes
import os
import sys
import time

# In `auto` mode a core type whose SGEMM in torch disagrees with a double-precision product,
# although its probe agreed, is excluded and the process re-executes itself (_RETRY_ENV lists
# the excluded ones; _PIN_ENV keeps the environment's original pin across that re-execution).
_RETRY_ENV = "RECC_BENCH_CORETYPE_REJECTED"
_PIN_ENV = "RECC_BENCH_CORETYPE_PIN"
TAG = "torch_peer"
CORETYPE_CHOICE = {}


def log(msg):
    print(f"{TAG}: {msg}", file=sys.stderr, flush=True)


def add_common_args(p, batch, steps=100, warmup=10):
    """The flags every peer takes (bench/README.md lists them)."""
    p.add_argument("--threads", type=int, default=2, help="torch, OpenMP and OpenBLAS threads")
    p.add_argument("--steps", type=int, default=steps,
                   help="timed steps, for training and for inference")
    p.add_argument("--warmup", type=int, default=warmup,
                   help="untimed steps before each measurement")
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--json", metavar="OUT", help="also write the JSON object to this file")
    p.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE"], default="PASSIVE",
                   help="OMP_WAIT_POLICY for torch's OpenMP threads (ACTIVE only to show the cost)")
    p.add_argument("--openblas-coretype", default="auto",
                   help="OPENBLAS_CORETYPE; 'auto' probes SkylakeX (AVX-512 CPUs), Haswell "
                        "(AVX2) and OpenBLAS's own detection, each in its own process, and "
                        "takes the fastest whose SGEMM agrees with a float64 product (an "
                        "environment pin is not kept); 'none' lets OpenBLAS detect")
    p.add_argument("--max-rows", type=int, default=0,
                   help="read at most this many CSV rows (0: all)")


def check_common_args(p, args):
    for name in ("threads", "steps", "batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must be at least 0")
    if args.max_rows < 0:
        p.error("--max-rows must be at least 0")
    if getattr(args, "data", None) and not os.path.isfile(args.data):
        p.error(f"--data: no such file '{args.data}'")


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []


def coretype_candidates(choice, flags=None):
    """The OPENBLAS_CORETYPE values to consider ([None]: let OpenBLAS detect the CPU). `auto`
    probes SkylakeX (AVX-512 CPUs), Haswell (AVX2 ones) and OpenBLAS's own detection: Debian 12's
    OpenBLAS 0.3.21 does not know recent CPUs (e.g. family 6, model 207) and falls back to the
    SSE3 "Prescott" kernels (1024^3 SGEMM on 2 threads ~60 instead of ~290 GFLOP/s), while an
    environment pin such as Haswell halves SGEMM on AVX-512 CPUs. A pin is not kept."""
    if choice == "none":
        return [None]
    if choice != "auto":
        return [choice]
    flags = _cpu_flags() if flags is None else flags
    return (["SkylakeX"] if "avx512f" in flags else []) + (["Haswell"] if "avx2" in flags else []) \
        + [None]


def choose_fastest(probes):
    """The probe result of the fastest core type that computed correctly (None if none did)."""
    good = [p for p in probes if p.get("ok")]
    return max(good, key=lambda p: p["gflops"]) if good else None


def probe_coretype(coretype, threads, reps=5):
    """Runs openblas_probe.py in a fresh process with OPENBLAS_CORETYPE=coretype (unset for None):
    its 1024^3 SGEMM rate at `threads` threads and its error against a float64 product. A core
    type the CPU cannot run (SIGILL) comes back with ok False and the reason."""
    import json
    import subprocess
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openblas_probe.py")
    name = coretype or "detect"
    try:
        run = subprocess.run([sys.executable, script, "--reps", str(reps)], env=env,
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return {"coretype": name, "ok": False, "error": "probe timed out after 60 s"}
    if run.returncode != 0:
        why = f"exit {run.returncode}"
        if run.returncode < 0:
            import signal
            why = f"killed by {signal.Signals(-run.returncode).name}" + \
                (": the CPU lacks the kernels' instructions" if -run.returncode == signal.SIGILL
                 else "")
        detail = run.stderr.strip()[-300:]
        return {"coretype": name, "ok": False,
                "error": f"probe failed ({why})" + (f": {detail}" if detail else "")}
    return json.loads(run.stdout)


def _log_probes(probes):
    for p in probes:
        what = p.get("error") or (
            f"{p['gflops']:.1f} GFLOP/s (core {p['core']}), max relative error "
            f"{p['max_rel_err']:.1e}" + ("" if p["ok"] else ": WRONG"))
        log(f"OpenBLAS core type {p['coretype']:<8}: {what}")


def choose_coretype(args):
    """The core type to load OpenBLAS with, and a record of how it was chosen (for the JSON).
    `auto` probes every candidate in its own process and takes the fastest correct one; a
    named core type gets one probe, so that one the CPU cannot run (SIGILL) stops the peer with
    that reason instead of killing it inside torch's import."""
    pin = os.environ.get(_PIN_ENV, os.environ.get("OPENBLAS_CORETYPE"))
    os.environ[_PIN_ENV] = pin or ""
    mode = args.openblas_coretype
    rejected = [c for c in os.environ.get(_RETRY_ENV, "").split(",") if c]
    candidates = [c for c in coretype_candidates(mode) if (c or "detect") not in rejected]
    record = {"mode": mode, "env_pin": pin or None, "rejected": rejected, "probes": []}
    if mode == "none" or not candidates:
        return None, record
    t = time.perf_counter()
    record["probes"] = [probe_coretype(c, args.threads, reps=5 if mode == "auto" else 1)
                        for c in candidates]
    record["probe_seconds"] = round(time.perf_counter() - t, 2)
    if mode != "auto":
        if "error" in record["probes"][0]:
            sys.exit(f"{TAG}: --openblas-coretype {mode}: {record['probes'][0]['error']}")
        return mode, record
    _log_probes(record["probes"])
    best = choose_fastest(record["probes"])
    if best is None:
        log("WARNING: no OpenBLAS core type computed SGEMM correctly; letting OpenBLAS detect")
        return None, record
    log(f"chosen: {best['coretype']} (fastest correct; environment pin: {pin or 'none'}; "
        f"probes took {record['probe_seconds']:.1f} s)")
    return (None if best["coretype"] == "detect" else best["coretype"]), record


def configure_environment(args, tag):
    """Sets OMP_WAIT_POLICY, the thread counts and OPENBLAS_CORETYPE before torch loads.
    Returns the core type chosen (None: OpenBLAS detects the CPU itself); how it was chosen is
    in CORETYPE_CHOICE, which start_peer puts into the JSON under blas.coretype_choice."""
    global TAG, CORETYPE_CHOICE
    TAG = tag
    coretype, CORETYPE_CHOICE = choose_coretype(args)
    CORETYPE_CHOICE["chosen"] = coretype or "detect"
    if coretype:
        os.environ["OPENBLAS_CORETYPE"] = coretype
    else:
        os.environ.pop("OPENBLAS_CORETYPE", None)
    # Without PASSIVE, torch's idle OpenMP threads spin and fight OpenBLAS's threads for the
    # two cores, and training runs 1.1-3x slower. torch.set_num_threads does not reach
    # OpenBLAS's own pthread pool, hence OPENBLAS_NUM_THREADS.
    os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    return coretype


def verify_sgemm_or_retry(args, coretype):
    """Checks torch's float32 GEMM against a double-precision product of the same inputs. If
    the core type in use gives wrong results and `auto` has another to try, re-executes this
    script without it (OpenBLAS reads the core type only at load). Returns the check's result."""
    import torch
    g = torch.Generator().manual_seed(1)
    a = torch.rand(301, 517, generator=g) - 0.5
    b = torch.rand(517, 263, generator=g) - 0.5
    got = torch.mm(a, b).double()
    want = torch.mm(a.double(), b.double())
    scale = torch.mm(a.double().abs(), b.double().abs())
    rel = float(((got - want).abs() / scale.clamp_min(1e-30)).max())
    ok = rel < 1e-5
    result = {"coretype": coretype or "detect", "max_rel_err": rel, "ok": ok}
    if ok:
        log(f"SGEMM check: OpenBLAS core type {coretype or '(detected)'} agrees with a float64 "
            f"product (max relative error {rel:.1e})")
        return result
    log(f"WARNING: SGEMM with core type {coretype or '(detected)'} is wrong "
        f"(max relative error {rel:.1e})")
    if args.openblas_coretype == "auto":
        rejected = [c for c in os.environ.get(_RETRY_ENV, "").split(",") if c]
        rejected.append(coretype or "detect")
        if len(rejected) < len(coretype_candidates("auto")):
            os.environ[_RETRY_ENV] = ",".join(rejected)
            log("re-running without it")
            sys.stdout.flush()
            os.execv(sys.executable, [sys.executable] + sys.argv)
    return result


# ---------------------------------------------------------------------------------------------
# BLAS check: Debian's torch links the generic libblas.so.3, which the alternatives system may
# point at OpenBLAS or at the reference BLAS (~100x slower). Only the mapped file tells which.

def blas_report():
    import torch
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded and used
    info = next((w for line in torch.__config__.show().splitlines() for w in line.split(", ")
                 if "BLAS_INFO" in w), "BLAS_INFO=?").strip()
    info = info[info.index("BLAS_INFO"):] if "BLAS_INFO" in info else info
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path).lower():
                mapped.add(path)
    report = {"build": info, "mapped": sorted(mapped), "openblas": None}
    for path in sorted(mapped):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            report["openblas"] = {"library": path,
                                  "config": lib.openblas_get_config().decode(),
                                  "core": lib.openblas_get_corename().decode(),
                                  "threads": lib.openblas_get_num_threads()}
            break
        except (OSError, AttributeError):
            continue
    reference = [p for p in mapped if "/blas/" in p and "openblas" not in p]
    core = (report["openblas"] or {}).get("core", "")
    if core.lower() in ("prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai"):
        log("!" * 78)
        log(f"WARNING: OpenBLAS runs its '{core}' kernels (no AVX): SGEMM is ~5x slower than it")
        log("  should be. Set OPENBLAS_CORETYPE (SkylakeX on AVX-512 machines, Haswell on AVX2).")
        log("!" * 78)
    log(f"torch build: {info}; BLAS mapped: {', '.join(sorted(mapped)) or 'none'}")
    if report["openblas"]:
        ob = report["openblas"]
        log(f"OpenBLAS in use: {ob['config']} (core {ob['core']}, {ob['threads']} threads)")
    if reference or not report["openblas"]:
        log("!" * 78)
        log("WARNING: torch is NOT using OpenBLAS"
            + (f" (reference BLAS {reference})" if reference else ""))
        log("  every GEMM will be ~100x slower and these numbers mean nothing; fix with")
        log("  update-alternatives --set libblas.so.3-x86_64-linux-gnu "
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3")
        log("!" * 78)
    return report


# ---------------------------------------------------------------------------------------------
# The machine: how busy other processes kept it, and its SGEMM rate.

class OtherLoad:
    """Share of the machine's CPU time that other processes used while a measurement ran, from
    /proc/stat less our own CPU time: this process's, or with children=True that of its
    finished (waited-for) children, for a driver that runs the measurements as subprocesses.
    A number above ~0.05 means the run was disturbed (on a 2-core machine a neighbour's
    compile halves what we measure)."""

    def __init__(self, children=False):
        self.children = children
        self.start = self._sample()

    def _sample(self):
        with open("/proc/stat") as f:
            jiffies = [int(x) for x in f.readline().split()[1:]]
        t = os.times()
        own = t.children_user + t.children_system if self.children else t.user + t.system
        return sum(jiffies), jiffies[3] + jiffies[4], own

    def fraction(self):
        (total0, idle0, own0), (total1, idle1, own1) = self.start, self._sample()
        hz = os.sysconf("SC_CLK_TCK")
        other = (total1 - total0) - (idle1 - idle0) - (own1 - own0) * hz
        return max(0.0, other / max(1, total1 - total0))


def sgemm_gflops(n=1024, reps=20):
    """Best-of-reps torch.mm n^3 float32 rate at the current thread count, and the other
    processes' share of the machine while it ran."""
    import torch
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    best, load = float("inf"), OtherLoad()
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n ** 3 / best / 1e9, load.fraction()


# ---------------------------------------------------------------------------------------------
# Layers as recc builds them.

def linear(n, m):
    """recc's dense: Glorot-uniform weight, zero bias."""
    import torch.nn as nn
    layer = nn.Linear(n, m)
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(widths, out):
    """recc's mlp(x, widths[1:]) then dense(., out): ReLU between, none after the last."""
    import torch.nn as nn
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [linear(a, b), nn.ReLU()]
    layers.append(linear(widths[-1], out))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# Peak memory.

def reset_peak_rss():
    """Restart the kernel's RSS high-water mark (VmHWM), so the training peak excludes the CSV
    parse. Returns False where /proc/self/clear_refs is not writable."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def vm_hwm_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def peak_rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warn_if_loaded(loads):
    if max(loads.values()) > 0.05:
        log(f"WARNING: other processes used up to {100 * max(loads.values()):.0f}% of the machine "
            "during the measurements; rerun on a quiet machine")


def timed_training(model, data, args, dense, sparse, after_step=None):
    """Trains `args.warmup` untimed then `args.steps` timed steps with the two optimizers;
    `data.batch(step, B)` returns the model's inputs followed by its labels, all of which
    `model.loss` takes. `after_step()` runs after each optimizer step (e.g. an EMA teacher's
    update), timed as its own phase. Returns the time, the other processes' load, per-phase
    milliseconds and the loss at the start and end of the timed steps."""
    import numpy as np
    model.train()
    phases = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    if after_step:
        phases["after_step"] = 0.0
    losses = []
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            phases = dict.fromkeys(phases, 0.0)
            load = OtherLoad()
            start = time.perf_counter()
        batch = data.batch(step, args.batch)
        t0 = time.perf_counter()
        dense.zero_grad(set_to_none=True)
        sparse.zero_grad(set_to_none=True)
        loss = model.loss(*batch)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        dense.step()
        sparse.step()
        t3 = time.perf_counter()
        if after_step:
            after_step()
            phases["after_step"] += time.perf_counter() - t3
        phases["forward"] += t1 - t0
        phases["backward"] += t2 - t1
        phases["optimizer"] += t3 - t2
        if step >= args.warmup:
            losses.append(loss.item())
    seconds = time.perf_counter() - start
    k = max(1, len(losses) // 10)
    return {"seconds": seconds, "other_load": load.fraction(),
            "phase_ms_per_step": {n: round(1e3 * v / args.steps, 3) for n, v in phases.items()},
            "loss_first": float(np.mean(losses[:k])), "loss_last": float(np.mean(losses[-k:]))}


def timed_inference(model, data, args):
    """Scores `args.warmup` untimed then `args.steps` timed batches (the batch's last element,
    the labels, is not passed). Returns the time and the other processes' load."""
    import torch
    model.eval()
    with torch.inference_mode():
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                load = OtherLoad()
                start = time.perf_counter()
            model(*data.batch(step, args.batch)[:-1])
    return time.perf_counter() - start, load.fraction()


def start_peer(args, coretype, note=""):
    """Sets torch's threads and seed, logs the setup, checks SGEMM against a double-precision
    product (re-executing with the next core type where it is wrong) and measures the first
    SGEMM rate. Returns the BLAS report and the list of SGEMM measurements."""
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    log(f"torch {torch.__version__}, {args.threads} threads, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}{note}")
    sgemm_check = verify_sgemm_or_retry(args, coretype)
    blas = blas_report()
    blas["sgemm_check"] = sgemm_check
    blas["coretype_choice"] = CORETYPE_CHOICE
    return blas, [sgemm_gflops()]


def measure_and_report(model, data, args, train, infer, forward_flops, blas, sgemm, fields):
    """Trains and runs `model` (timed by `train` and `infer`), with SGEMM measured between and
    after, and prints one JSON object: `fields` (what identifies the peer and its model), then
    rates, GFLOP/s at `forward_flops` dense FLOP per sample (training = 3x), peak RSS, the loss
    and the other processes' load. Also writes it to `args.json` when given."""
    import json
    import torch
    rss_reset = reset_peak_rss()
    tr = train(model, data, args)
    sgemm.append(sgemm_gflops())
    infer_seconds, infer_load = infer(model, data, args)
    train_peak = vm_hwm_mib() if rss_reset else None
    sgemm.append(sgemm_gflops())
    sgemm_rate, sgemm_load = max(sgemm)

    fwd = forward_flops
    train_sps = args.steps * args.batch / tr["seconds"]
    infer_sps = args.steps * args.batch / infer_seconds
    train_gflops = 3 * fwd * train_sps / 1e9
    loads = {"train": tr["other_load"], "infer": infer_load, "sgemm": sgemm_load}
    result = {
        "peer": "pytorch-eager", **fields, "torch": torch.__version__,
        "threads": args.threads, "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
        "data": data.source, "rows": data.rows, "blas": blas,
        "train_samples_per_s": round(train_sps, 1),
        "train_step_ms": round(1e3 * tr["seconds"] / args.steps, 3),
        "train_phase_ms_per_step": tr["phase_ms_per_step"],
        "train_gflops": round(train_gflops, 2),
        "infer_samples_per_s": round(infer_sps, 1),
        "infer_gflops": round(fwd * infer_sps / 1e9, 2),
        "dense_mflop_per_sample_forward": round(fwd / 1e6, 4),
        "dense_mflop_per_sample_train": round(3 * fwd / 1e6, 4),
        "sgemm_gflops": round(sgemm_rate, 1),
        "train_gflops_fraction_of_sgemm": round(train_gflops / sgemm_rate, 4),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "peak_rss_train_mib": round(train_peak, 1) if train_peak else None,
        "loss_first": round(tr["loss_first"], 5), "loss_last": round(tr["loss_last"], 5),
        **{f"other_load_{k}": round(v, 3) for k, v in loads.items()},
    }
    warn_if_loaded(loads)
    text = json.dumps(result)
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
