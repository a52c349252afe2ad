#!/usr/bin/python3
"""bench/torch_esm2.py: the PyTorch eager peer that recc's ESM² and ESMM are measured against.

It builds ESM² (four towers) or ESMM (two towers) in plain PyTorch 1.13 at the paper's sizes,
exactly as models/esm2.rec and models/esmm.rec define them (see bench/README.md), sets torch up
as a knowledgeable user would (sparse embedding gradients with SparseAdam, a fixed thread count,
OMP_WAIT_POLICY=PASSIVE, OpenBLAS), and measures in one run: training and inference samples/s,
peak RSS, the dense GFLOP/s those imply, and the machine's SGEMM GFLOP/s at the same thread
count. It prints one JSON object on stdout; diagnostics go to stderr.

Use Debian's interpreter (/usr/bin/python3): python3-torch lives there, not in a pyenv shim.
"""

import argparse
import json
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["esm2", "esmm"], default="esm2")
    p.add_argument("--data", help="CSV from examples/gen_funnel; random tensors when absent")
    p.add_argument("--threads", type=int, default=2, help="torch, OpenMP and OpenBLAS threads")
    p.add_argument("--steps", type=int, default=100,
                   help="timed steps, for training and for inference")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps before each measurement")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--json", metavar="OUT", help="also write the JSON object to this file")
    p.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE"], default="PASSIVE",
                   help="OMP_WAIT_POLICY for torch's OpenMP threads (ACTIVE only to show the cost)")
    p.add_argument("--openblas-coretype", default="auto",
                   help="OPENBLAS_CORETYPE; 'auto' keeps the environment's, else picks SkylakeX on "
                        "AVX-512 CPUs and Haswell on AVX2 ones, 'none' lets OpenBLAS detect")
    p.add_argument("--max-rows", type=int, default=0,
                   help="read at most this many CSV rows (0: all)")
    args = p.parse_args()
    for name in ("threads", "steps", "batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must be at least 0")
    if args.data and not os.path.isfile(args.data):
        p.error(f"--data: no such file '{args.data}'")
    return args


ARGS = parse_args()
# These must be in the environment before torch is imported: libgomp and OpenBLAS read them
# once, when their shared objects load. Without PASSIVE, torch's idle OpenMP threads spin and
# fight OpenBLAS's threads for the two cores, and training runs 1.1-3x slower. torch.set_num_threads
# does not reach OpenBLAS's own pthread pool, hence OPENBLAS_NUM_THREADS.
#
# OpenBLAS 0.3.21 (Debian 12) does not know this machine's CPU (family 6, model 207) and its
# DYNAMIC_ARCH dispatch falls back to the SSE3 "Prescott" kernels: 1024^3 SGEMM on 2 threads
# drops from ~290 to ~60 GFLOP/s. Naming the core type restores the AVX-512 kernels.


def openblas_coretype(choice):
    if choice == "none":
        return None
    if choice != "auto":
        return choice
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"]
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    return "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None


CORETYPE = openblas_coretype(ARGS.openblas_coretype)
if CORETYPE:
    os.environ["OPENBLAS_CORETYPE"] = CORETYPE
else:
    os.environ.pop("OPENBLAS_CORETYPE", None)
os.environ["OMP_WAIT_POLICY"] = ARGS.omp_wait_policy
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)

import ctypes  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ID_FIELDS = {  # column: (vocabulary, embedding dim); the generator's defaults
    "user_id": (100000, 128), "item_id": (100000, 128), "shop_id": (20000, 128),
    "brand_id": (10000, 128), "category_id": (1000, 128),
    "gender": (3, 16), "age": (10, 16), "power": (8, 16),
}
NUM_FIELDS = [f"num_{k}" for k in range(8)]
LABELS = ["click", "daction", "buy"]
INPUT_WIDTH = sum(d for _, d in ID_FIELDS.values()) + len(NUM_FIELDS)  # 696
HIDDEN = [512, 256, 128, 32]
EPS = 1e-7


def log(msg):
    print(f"torch_esm2: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# BLAS check: Debian's torch links the generic libblas.so.3, which the alternatives system may
# point at OpenBLAS or at the reference BLAS (~100x slower). Only the mapped file tells which.

def blas_report():
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
    /proc/stat less this process's own time: a number above ~0.05 means the run was disturbed
    (on a 2-core machine a neighbour's compile halves what we measure)."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        with open("/proc/stat") as f:
            jiffies = [int(x) for x in f.readline().split()[1:]]
        own = os.times()
        return sum(jiffies), jiffies[3] + jiffies[4], own.user + own.system

    def fraction(self):
        total0, idle0, own0 = self.start
        total1, idle1, own1 = self._sample()
        hz = os.sysconf("SC_CLK_TCK")
        busy = (total1 - total0) - (idle1 - idle0)
        other = busy - (own1 - own0) * hz
        return max(0.0, other / max(1, total1 - total0))


def sgemm_gflops(n=1024, reps=20):
    """Best-of-reps torch.mm n^3 float32 rate at the current thread count, and the other
    processes' share of the machine while it ran."""
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
# Data: the generator's CSV, or random tensors of the same shapes.

class Data:
    """Columns as tensors: ids[field] int64 [N], nums float32 [N, 8], labels float32 [N, 3]."""

    def __init__(self, ids, nums, labels, source):
        self.ids, self.nums, self.labels, self.source = ids, nums, labels, source
        self.rows = labels.shape[0]
        # Eq. 17 statistics, from the data the model trains on (spec B.9.4: sigma >= 1e-6).
        self.mu = nums.mean(0)
        self.sigma = nums.std(0, unbiased=False).clamp_min(1e-6)

    def batch(self, step, size):
        start = (step * size) % (self.rows - size + 1)
        sl = slice(start, start + size)
        return ({k: v[sl] for k, v in self.ids.items()}, self.nums[sl], self.labels[sl])


def load_csv(path, max_rows):
    with open(path) as f:
        header = f.readline().strip().split(",")
    missing = [c for c in list(ID_FIELDS) + NUM_FIELDS + LABELS if c not in header]
    if missing:
        sys.exit(f"torch_esm2: {path}: missing columns {missing}")
    t = time.perf_counter()
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2,
                       max_rows=max_rows or None)
    col = {name: i for i, name in enumerate(header)}
    ids = {}
    for name, (vocab, _) in ID_FIELDS.items():
        v = table[:, col[name]].astype(np.int64)
        if v.min() < 0 or v.max() >= vocab:
            sys.exit(f"torch_esm2: {path}: column '{name}' has ids outside [0, {vocab})")
        ids[name] = torch.from_numpy(v)
    nums = torch.from_numpy(table[:, [col[c] for c in NUM_FIELDS]].astype(np.float32))
    labels = torch.from_numpy(table[:, [col[c] for c in LABELS]].astype(np.float32))
    log(f"read {table.shape[0]} rows from {path} in {time.perf_counter() - t:.1f} s")
    return Data(ids, nums, labels, path)


def random_data(rows, seed=0):
    """Uniform ids touch more distinct embedding rows per batch than Zipf ids: a pessimistic
    case for the sparse optimizer. Labels follow the funnel's rates and constraints."""
    g = torch.Generator().manual_seed(seed)
    ids = {n: torch.randint(v, (rows,), generator=g) for n, (v, _) in ID_FIELDS.items()}
    scale = torch.tensor([100, 0.05, 0.01, 15, 1000, 200, 7, 3], dtype=torch.float32)
    nums = torch.randn(rows, 8, generator=g) * scale + 2 * scale
    click = (torch.rand(rows, generator=g) < 0.06).float()
    daction = click * (torch.rand(rows, generator=g) < 0.12).float()
    buy = click * (torch.rand(rows, generator=g) < 0.01 + 0.05 * daction).float()
    return Data(ids, nums, torch.stack([click, daction, buy], 1), "random")


# ---------------------------------------------------------------------------------------------
# The models: shared embeddings (SEM), parallel towers (DPM), probability composition (SCM).

class Tower(nn.Module):
    """[696] -> 512 -> 256 -> 128 -> 32 -> 1, ReLU and dropout 0.5 after each hidden layer."""

    def __init__(self):
        super().__init__()
        layers, width = [], INPUT_WIDTH
        for h in HIDDEN:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(0.5)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        for m in self.net:
            if isinstance(m, nn.Linear):  # spec B.9.11: Glorot-uniform weights, zero bias
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, g):
        return torch.sigmoid(self.net(g)).squeeze(1)


class FunnelModel(nn.Module):
    def __init__(self, model, mu, sigma):
        super().__init__()
        self.model = model
        self.tables = nn.ModuleDict(
            {n: nn.Embedding(v, d, sparse=True) for n, (v, d) in ID_FIELDS.items()})
        for t in self.tables.values():
            nn.init.uniform_(t.weight, -0.05, 0.05)
        self.towers = nn.ModuleList(Tower() for _ in range(4 if model == "esm2" else 2))
        self.register_buffer("mu", mu)
        self.register_buffer("sigma", sigma)

    def shared_embedding(self, ids, nums):
        """g = concat(embeddings, tanh((x - mu) / sigma)): [B, 696]."""
        parts = [self.tables[n](ids[n]) for n in ID_FIELDS]
        parts.append(torch.tanh((nums - self.mu) / self.sigma))
        return torch.cat(parts, 1)

    def forward(self, ids, nums):
        """Returns p_ctr, p_ctavr (None for ESMM), p_cvr, p_ctcvr."""
        g = self.shared_embedding(ids, nums)
        if self.model == "esmm":
            p_ctr, p_cvr = (t(g) for t in self.towers)
            return p_ctr, None, p_cvr, p_ctr * p_cvr
        y1, y2, y3, y4 = (t(g) for t in self.towers)
        p_cvr = y4 * (1 - y2) + y3 * y2
        return y1, y1 * y2, p_cvr, y1 * p_cvr

    def loss(self, ids, nums, labels):
        p_ctr, p_ctavr, _, p_ctcvr = self(ids, nums)
        loss = bce(p_ctr, labels[:, 0]) + bce(p_ctcvr, labels[:, 2])
        if p_ctavr is not None:
            loss = loss + bce(p_ctavr, labels[:, 1])
        return loss


def bce(p, y):
    """BCE on a probability, clamped to [eps, 1-eps]; batch mean."""
    return F.binary_cross_entropy(p.clamp(EPS, 1 - EPS), y)


def dense_forward_flops_per_sample(towers):
    """GEMM FLOPs of one sample's forward pass: 2 * sum(in * out) over every tower layer."""
    widths = [INPUT_WIDTH] + HIDDEN + [1]
    return towers * 2 * sum(a * b for a, b in zip(widths, widths[1:]))


# ---------------------------------------------------------------------------------------------
# Measurements.

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


def train(model, data, args):
    dense = torch.optim.Adam(model.towers.parameters(), lr=5e-4)
    sparse = torch.optim.SparseAdam(list(model.tables.parameters()), lr=5e-4)
    model.train()
    phases = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    losses = []
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            phases = dict.fromkeys(phases, 0.0)
            load = OtherLoad()
            start = time.perf_counter()
        ids, nums, labels = data.batch(step, args.batch)
        t0 = time.perf_counter()
        dense.zero_grad(set_to_none=True)
        sparse.zero_grad(set_to_none=True)
        loss = model.loss(ids, nums, labels)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        dense.step()
        sparse.step()
        t3 = time.perf_counter()
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


def infer(model, data, args):
    model.eval()
    with torch.inference_mode():
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                load = OtherLoad()
                start = time.perf_counter()
            ids, nums, _ = data.batch(step, args.batch)
            model(ids, nums)
    return time.perf_counter() - start, load.fraction()


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    log(f"torch {torch.__version__}, {args.threads} threads, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    blas = blas_report()
    sgemm = [sgemm_gflops()]

    data = load_csv(args.data, args.max_rows) if args.data else random_data(64 * args.batch)
    if data.rows < args.batch:
        sys.exit(f"torch_esm2: {data.rows} rows are fewer than one batch of {args.batch}")
    model = FunnelModel(args.model, data.mu, data.sigma)
    towers = len(model.towers)
    rss_reset = reset_peak_rss()

    tr = train(model, data, args)
    sgemm.append(sgemm_gflops())
    infer_seconds, infer_load = infer(model, data, args)
    train_peak = vm_hwm_mib() if rss_reset else None
    sgemm.append(sgemm_gflops())
    sgemm_rate, sgemm_load = max(sgemm)

    fwd = dense_forward_flops_per_sample(towers)
    train_sps = args.steps * args.batch / tr["seconds"]
    infer_sps = args.steps * args.batch / infer_seconds
    train_gflops = 3 * fwd * train_sps / 1e9
    loads = {"train": tr["other_load"], "infer": infer_load, "sgemm": sgemm_load}
    result = {
        "peer": "pytorch-eager", "model": args.model, "torch": torch.__version__,
        "threads": args.threads, "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
        "openblas_coretype_env": CORETYPE,
        "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
        "data": data.source, "rows": data.rows, "towers": towers, "input_width": INPUT_WIDTH,
        "blas": blas,
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
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_train_mib": round(train_peak, 1) if train_peak else None,
        "loss_first": round(tr["loss_first"], 5), "loss_last": round(tr["loss_last"], 5),
        **{f"other_load_{k}": round(v, 3) for k, v in loads.items()},
    }
    if max(loads.values()) > 0.05:
        log(f"WARNING: other processes used up to {100 * max(loads.values()):.0f}% of the machine "
            "during the measurements; rerun on a quiet machine")
    text = json.dumps(result)
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
