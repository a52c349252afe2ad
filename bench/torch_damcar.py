#!/usr/bin/python3
"""bench/torch_damcar.py: the PyTorch eager peers that recc's DAMCAR models are measured against.

`--model damcar`: the label generator of models/damcar.rec in plain PyTorch 1.13, exactly as the
model file defines it: user, item and author tables (32-d) plus the V, A and T vectors (4 values
each) each projected to 32; the shared encoder E (300-200-100, ReLU) on both streams, g (128-100,
ReLU) on the source branch only, Φ and Ψ (one linear unit each; Ψ behind a gradient-reversal
layer with coefficient 0.3), the EMA teacher (α = 0.99) of the embeddings, the projections, E and
Φ, whose output on the target batch is a soft label behind stop-gradient; L = L_ce + 0.7 L_sup +
L_dom. Each step takes a source batch (exposed rows, with the label) and a target batch (S_sam
rows) of --batch rows each (512 + 512), steps Adagrad (lr 0.01, initial accumulator 0.1, as recc's
`adagrad`), then updates the teacher: every parameter and every table row, with torch's
multi-tensor ops (the usual mean-teacher code; recc updates a table's shadow lazily, for the rows
the step touched, with an exact catch-up, so the peer does more table work: see bench/README.md).

`--model damcar_ret`: the DSSM retrieval model of the same file (towers 256-128 on the user id
and on the item's ids and content, dot product; L = BCE(r, y_mpl) + 0.3 MSE(σ(r), y_rank) with
y_mpl = finish + (1 - finish) ŷ_gen), Adagrad at batch 512; inference also computes the model's
top_k output (each row's best 200 items of the batch), as recc's eval step does.

Set up as the ESM² peer is (bench/README.md): sparse embedding gradients (tables step with the
sparse Adagrad, which, like recc's lazy Adagrad, touches the batch's rows only), a fixed thread
count, OMP_WAIT_POLICY=PASSIVE, OpenBLAS checked. Prints one JSON object on stdout (samples/s
counted in source rows, as --batch; peak RSS; dense GFLOP/s; SGEMM GFLOP/s); diagnostics go to
stderr.

Use Debian's interpreter (/usr/bin/python3): python3-torch lives there, not in a pyenv shim.
"""

import argparse
import sys

import torch_common as common
from torch_common import log


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["damcar", "damcar_ret"], default="damcar")
    p.add_argument("--data", help="damcar: examples/damcar/gen_damcar's train.csv (the source "
                                  "stream); damcar_ret: an S_T file of scripts/reproduce.sh "
                                  "damcar (with yhat_gen and y_rank); random rows when absent")
    p.add_argument("--target", help="damcar: walk_sample's S_sam CSV (the target stream); random "
                                    "rows when absent")
    common.add_common_args(p, batch=512)
    args = p.parse_args()
    common.check_common_args(p, args)
    if args.target and args.model != "damcar":
        p.error("--target is the generator's target stream: only with --model damcar")
    return args


ARGS = parse_args()
# Before torch is imported: see torch_common.configure_environment.
CORETYPE = common.configure_environment(ARGS, "torch_damcar")

import copy  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# models/damcar.rec's vocabularies and sizes.
VOCAB = {"user_id": 100000, "item_id": 50000, "author_id": 20000}
DIM, PROJ = 32, 32
CONTENT = [f"{m}_{j}" for m in "vat" for j in range(4)]
FEATURES = DIM * len(VOCAB) + 3 * PROJ          # 192
ENCODER, TRANSFORM, TOWER = [300, 200, 100], [128, 100], [256, 128]
GRL, LAMBDA1, LAMBDA3, ALPHA, LR = 0.3, 0.7, 0.3, 0.99, 0.01


# ---------------------------------------------------------------------------------------------
# Data: CSV files of examples/damcar, or random rows of the same shapes.

class Rows:
    """ids[field] int64 [N]; content float32 [N, 12]; cols[name] float32 [N] (labels and the
    pseudo-label columns)."""

    def __init__(self, ids, content, cols, source):
        self.ids, self.content, self.cols, self.source = ids, content, cols, source
        self.rows = content.shape[0]

    def take(self, step, size):
        start = (step * size) % (self.rows - size + 1)
        sl = slice(start, start + size)
        return {k: v[sl] for k, v in self.ids.items()}, self.content[sl], \
            {k: v[sl] for k, v in self.cols.items()}


def load_csv(path, max_rows, cols):
    t = time.perf_counter()
    with open(path) as f:
        header = f.readline().strip().split(",")
        missing = [c for c in list(VOCAB) + CONTENT + cols if c not in header]
        if missing:
            sys.exit(f"torch_damcar: {path}: missing columns {missing}")
        at = {name: i for i, name in enumerate(header)}
        rows = [line.rstrip("\n").split(",") for k, line in enumerate(f)
                if not max_rows or k < max_rows]
    ids = {}
    for name, vocab in VOCAB.items():
        v = np.array([int(r[at[name]]) for r in rows], dtype=np.int64)
        if len(v) and (v.min() < 0 or v.max() >= vocab):
            sys.exit(f"torch_damcar: {path}: column '{name}' has ids outside [0, {vocab})")
        ids[name] = torch.from_numpy(v)
    content = torch.tensor([[float(r[at[c]]) for c in CONTENT] for r in rows])
    values = {c: torch.tensor([float(r[at[c]]) for r in rows]) for c in cols}
    log(f"read {len(rows)} rows from {path} in {time.perf_counter() - t:.1f} s")
    return Rows(ids, content, values, path)


def random_rows(rows, cols, seed):
    """Uniform ids (a pessimistic case for the sparse optimizer), normal content, labels in
    {0, 1} at rate 1/2 and pseudo-labels uniform in (0, 1)."""
    g = torch.Generator().manual_seed(seed)
    ids = {n: torch.randint(v, (rows,), generator=g) for n, v in VOCAB.items()}
    values = {c: (torch.rand(rows, generator=g) < 0.5).float() if c == "finish"
              else torch.rand(rows, generator=g) for c in cols}
    return Rows(ids, torch.randn(rows, len(CONTENT), generator=g), values, "random")


class Streams:
    """The generator's two streams: batch(step, B) = (source, target, finish)."""

    def __init__(self, source, target):
        self.source_rows, self.target = source, target
        self.rows, self.source = source.rows, f"{source.source} + {target.source}"

    def batch(self, step, size):
        ids_s, c_s, cols = self.source_rows.take(step, size)
        ids_t, c_t, _ = self.target.take(step, size)
        return (ids_s, c_s), (ids_t, c_t), cols["finish"]


class Single:
    """damcar_ret's rows: batch(step, B) = (ids, content, yhat_gen, y_rank, finish)."""

    def __init__(self, rows):
        self.data, self.rows, self.source = rows, rows.rows, rows.source

    def batch(self, step, size):
        ids, content, cols = self.data.take(step, size)
        return ids, content, cols["yhat_gen"], cols["y_rank"], cols["finish"]


# ---------------------------------------------------------------------------------------------
# The models.

def relu_mlp(width, sizes):
    """recc's mlp(x, sizes): dense then ReLU per width (Glorot-uniform weights, zero biases)."""
    layers = []
    for h in sizes:
        layers += [common.linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers)


class Features(nn.Module):
    """damcar.rec's `features`: the three id embeddings and the V/A/T projections, [B, 192]."""

    def __init__(self, ids=VOCAB):
        super().__init__()
        self.tables = nn.ModuleDict({n: nn.Embedding(v, DIM, sparse=True) for n, v in ids.items()})
        for t in self.tables.values():
            nn.init.uniform_(t.weight, -0.05, 0.05)  # recc's default table init
        self.project = nn.ModuleList([common.linear(4, PROJ) for _ in range(3)])

    def forward(self, ids, content):
        parts = [self.tables[n](ids[n]) for n in self.tables]
        parts += [p(content[:, 4 * m:4 * m + 4]) for m, p in enumerate(self.project)]
        return torch.cat(parts, 1)


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.c * g, None


class Student(nn.Module):
    """The parts the teacher shadows: features, E and Φ."""

    def __init__(self):
        super().__init__()
        self.features = Features()
        self.encoder = relu_mlp(FEATURES, ENCODER)
        self.phi = common.linear(ENCODER[-1], 1)


class Damcar(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = Student()
        self.g = relu_mlp(ENCODER[-1], TRANSFORM)
        self.psi = common.linear(TRANSFORM[-1], 1)
        self.teacher = copy.deepcopy(self.student)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        # The multi-tensor EMA works on the dense weights; sparse=True only shapes the gradient.
        self.pairs = list(zip(self.teacher.parameters(), self.student.parameters()))

    def tables(self):
        return list(self.student.features.tables.parameters())

    def dense_parameters(self):
        skip = {id(p) for p in self.tables()} | {id(p) for p in self.teacher.parameters()}
        return [p for p in self.parameters() if id(p) not in skip]

    @torch.no_grad()
    def update_teacher(self):
        """Eq. 9 over every teacher tensor: t = α t + (1 - α) s."""
        tea, stu = [t for t, _ in self.pairs], [s for _, s in self.pairs]
        torch._foreach_mul_(tea, ALPHA)
        torch._foreach_add_(tea, stu, alpha=1 - ALPHA)

    def forward(self, source, target):
        """ŷ_s and ŷ_t (the model's outputs), each [B]."""
        s = self.student
        z_s, z_t = s.encoder(s.features(*source)), s.encoder(s.features(*target))
        return torch.sigmoid(s.phi(self.g(z_s))).squeeze(1), torch.sigmoid(s.phi(z_t)).squeeze(1)

    def loss(self, source, target, finish):
        s = self.student
        z_s, z_t = s.encoder(s.features(*source)), s.encoder(s.features(*target))
        h_s = self.g(z_s)
        a_s, a_t = s.phi(h_s).squeeze(1), s.phi(z_t).squeeze(1)
        b_s = self.psi(GradReverse.apply(h_s, GRL)).squeeze(1)
        b_t = self.psi(GradReverse.apply(z_t, GRL)).squeeze(1)
        with torch.no_grad():
            t = self.teacher
            y_tea = torch.sigmoid(t.phi(t.encoder(t.features(*target)))).squeeze(1)
        ce = F.binary_cross_entropy_with_logits(a_s, finish)
        sup = F.binary_cross_entropy_with_logits(a_t, y_tea)
        dom = F.softplus(-b_s).mean() + F.softplus(b_t).mean()
        return ce + LAMBDA1 * sup + dom


class DamcarRet(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(VOCAB["user_id"], DIM, sparse=True)
        self.items = Features({n: v for n, v in VOCAB.items() if n != "user_id"})
        nn.init.uniform_(self.user.weight, -0.05, 0.05)
        self.user_tower = common.mlp([DIM] + TOWER[:-1], TOWER[-1])
        self.item_tower = common.mlp([FEATURES - DIM] + TOWER[:-1], TOWER[-1])

    def tables(self):
        return [self.user.weight] + list(self.items.tables.parameters())

    def dense_parameters(self):
        skip = {id(p) for p in self.tables()}
        return [p for p in self.parameters() if id(p) not in skip]

    def logits(self, ids, content):
        p_u = self.user_tower(self.user(ids["user_id"]))
        q_i = self.item_tower(self.items(ids, content))
        return p_u, q_i, (p_u * q_i).sum(1)

    def forward(self, ids, content, yhat_gen, y_rank):
        p_u, q_i, r = self.logits(ids, content)
        top = torch.topk(p_u @ q_i.T, min(200, q_i.shape[0]), dim=1)
        return torch.sigmoid(r), top

    def loss(self, ids, content, yhat_gen, y_rank, finish):
        _, _, r = self.logits(ids, content)
        y_mpl = finish + (1 - finish) * yhat_gen
        mpl = F.binary_cross_entropy_with_logits(r, y_mpl)
        con = F.mse_loss(torch.sigmoid(r), y_rank)
        return mpl + LAMBDA3 * con


def layer_flops(widths):
    return sum(a * b for a, b in zip(widths, widths[1:]))


def forward_flops_per_sample(model):
    """GEMM FLOPs per source row (2 per multiply-add). damcar: the source path (projections, E,
    g, Φ, Ψ), the target path (projections, E, Φ, Ψ) and the teacher's (projections, E, Φ);
    damcar_ret: both towers and the projections."""
    proj = 3 * 4 * PROJ
    if model == "damcar_ret":
        return 2 * (layer_flops([DIM] + TOWER) + layer_flops([FEATURES - DIM] + TOWER) + proj)
    enc = layer_flops([FEATURES] + ENCODER)
    source = proj + enc + layer_flops([ENCODER[-1]] + TRANSFORM) + 2 * TRANSFORM[-1]
    target = proj + enc + 2 * ENCODER[-1]
    teacher = proj + enc + ENCODER[-1]
    return 2 * (source + target + teacher)


# ---------------------------------------------------------------------------------------------
# Measurements.

def optimizers(model):
    dense = torch.optim.Adagrad(model.dense_parameters(), lr=LR, initial_accumulator_value=0.1)
    sparse = torch.optim.Adagrad(model.tables(), lr=LR, initial_accumulator_value=0.1)
    return dense, sparse


def train(model, data, args):
    dense, sparse = optimizers(model)
    hook = model.update_teacher if isinstance(model, Damcar) else None
    return common.timed_training(model, data, args, dense, sparse, after_step=hook)


def infer(model, data, args):
    return common.timed_inference(model, data, args)


def load(args):
    rows = 64 * args.batch
    if args.model == "damcar":
        source = load_csv(args.data, args.max_rows, ["finish"]) if args.data \
            else random_rows(rows, ["finish"], 0)
        target = load_csv(args.target, args.max_rows, []) if args.target \
            else random_rows(rows, [], 1)
        data = Streams(source, target)
        short = min(source.rows, target.rows)
    else:
        cols = ["finish", "yhat_gen", "y_rank"]
        data = Single(load_csv(args.data, args.max_rows, cols) if args.data
                      else random_rows(rows, cols, 0))
        short = data.rows
    if short < args.batch:
        sys.exit(f"torch_damcar: {short} rows are fewer than one batch of {args.batch}")
    return data


def main():
    args = ARGS
    blas, sgemm = common.start_peer(args, CORETYPE)
    data = load(args)
    model = Damcar() if args.model == "damcar" else DamcarRet()
    fields = {"model": args.model, "openblas_coretype_env": CORETYPE,
              "rows_per_step": 2 * args.batch if args.model == "damcar" else args.batch,
              "table_ema": "dense (every row, every step)" if args.model == "damcar" else None}
    common.measure_and_report(model, data, args, train, infer,
                              forward_flops_per_sample(args.model), blas, sgemm, fields)


if __name__ == "__main__":
    main()
