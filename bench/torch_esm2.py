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
import sys

import torch_common as common
from torch_common import log


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["esm2", "esmm"], default="esm2")
    p.add_argument("--data", help="CSV from examples/gen_funnel; random tensors when absent")
    common.add_common_args(p, batch=1000)
    args = p.parse_args()
    common.check_common_args(p, args)
    return args


ARGS = parse_args()
# Before torch is imported: see torch_common.configure_environment.
CORETYPE = common.configure_environment(ARGS, "torch_esm2")

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

def train(model, data, args):
    dense = torch.optim.Adam(model.towers.parameters(), lr=5e-4)
    sparse = torch.optim.SparseAdam(list(model.tables.parameters()), lr=5e-4)
    return common.timed_training(model, data, args, dense, sparse)


def infer(model, data, args):
    return common.timed_inference(model, data, args)


def main():
    args = ARGS
    blas, sgemm = common.start_peer(args, CORETYPE)
    data = load_csv(args.data, args.max_rows) if args.data else random_data(64 * args.batch)
    if data.rows < args.batch:
        sys.exit(f"torch_esm2: {data.rows} rows are fewer than one batch of {args.batch}")
    model = FunnelModel(args.model, data.mu, data.sigma)
    towers = len(model.towers)
    common.measure_and_report(
        model, data, args, train, infer, dense_forward_flops_per_sample(towers), blas, sgemm,
        {"model": args.model, "openblas_coretype_env": CORETYPE, "towers": towers,
         "input_width": INPUT_WIDTH})


if __name__ == "__main__":
    main()
