#!/usr/bin/python3
"""bench/torch_uma2.py: the PyTorch eager peer that recc's UMA² is measured against.

It builds UMA² (a YouTube-DNN two-tower GMM plus NSDN's two propensity heads) in plain PyTorch
1.13 at the paper's sizes, exactly as models/uma2.rec defines it: the same features (user id,
gender, age, the mean-pooled click history through the item table, item id, category, the
tanh-z-scored item_ctr), d_e = 64, towers 512-256-128-32 with a linear last layer, heads
512-256-128-32-1, the IPW weights behind stop-gradient with p clipped at 0.05, the GMM loss as
one weighted batch mean plus the ER and RE losses, Adam lr 0.001 at batch 512. Set up as the
ESM² peer is (bench/README.md): sparse embedding gradients with SparseAdam where recc's tables
use lazy Adam, a fixed thread count, OMP_WAIT_POLICY=PASSIVE, OpenBLAS checked. Prints one JSON
object on stdout (training and inference samples/s, peak RSS, dense GFLOP/s, SGEMM GFLOP/s);
diagnostics go to stderr.

Use Debian's interpreter (/usr/bin/python3): python3-torch lives there, not in a pyenv shim.
"""

import argparse
import sys

import torch_common as common
from torch_common import log


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", help="a training CSV of examples/uma2/gen_uma2 (e.g. "
                                  "ss_abc_fixed.csv); random rows when absent")
    common.add_common_args(p, batch=512)
    args = p.parse_args()
    common.check_common_args(p, args)
    return args


ARGS = parse_args()
# Before torch is imported: see torch_common.configure_environment.
CORETYPE = common.configure_environment(ARGS, "torch_uma2")

import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# models/uma2.rec's vocabularies (the paper's Table 2) and sizes.
VOCAB = {"user_id": 1629473, "gender": 3, "age": 10, "item_id": 282728, "cate_id": 10000}
USER_FIELDS, ITEM_FIELDS = ["user_id", "gender", "age"], ["item_id", "cate_id"]
HIST_LEN, DIM = 50, 64
LABELS = ["click", "is_pos", "is_a", "is_b", "is_c", "recalled", "exposed"]
TOWER, HEAD = [512, 256, 128], [512, 256, 128, 32]
USER_WIDTH = DIM * (len(USER_FIELDS) + 1)      # 256: three ids and the pooled history
ITEM_WIDTH = DIM * len(ITEM_FIELDS) + 1        # 129: two ids and item_ctr
P_MIN = 0.05
EPS = 1e-7


# ---------------------------------------------------------------------------------------------
# Data: gen_uma2's CSV, or random rows of the same shapes and tag mix (1:1:4:20).

class Data:
    """ids[field] int64 [N]; hist int64 [N, 50] (0-padded) with mask float32 [N, 50];
    ctr float32 [N, 1]; labels float32 [N, 7] in LABELS' order."""

    def __init__(self, ids, hist, mask, ctr, labels, source):
        self.ids, self.hist, self.mask, self.ctr = ids, hist, mask, ctr
        self.labels, self.source = labels, source
        self.rows = labels.shape[0]
        self.mu, self.sigma = ctr.mean(), ctr.std(unbiased=False).clamp_min(1e-6)

    def batch(self, step, size):
        start = (step * size) % (self.rows - size + 1)
        sl = slice(start, start + size)
        return ({k: v[sl] for k, v in self.ids.items()}, self.hist[sl], self.mask[sl],
                self.ctr[sl], self.labels[sl])


def load_csv(path, max_rows):
    t = time.perf_counter()
    with open(path) as f:
        header = f.readline().strip().split(",")
        missing = [c for c in list(VOCAB) + ["hist", "item_ctr"] + LABELS if c not in header]
        if missing:
            sys.exit(f"torch_uma2: {path}: missing columns {missing}")
        col = {name: i for i, name in enumerate(header)}
        rows = [line.rstrip("\n").split(",") for k, line in enumerate(f)
                if not max_rows or k < max_rows]
    ids = {}
    for name, vocab in VOCAB.items():
        v = np.array([int(r[col[name]]) for r in rows], dtype=np.int64)
        if len(v) and (v.min() < 0 or v.max() >= vocab):
            sys.exit(f"torch_uma2: {path}: column '{name}' has ids outside [0, {vocab})")
        ids[name] = torch.from_numpy(v)
    hist = np.zeros((len(rows), HIST_LEN), dtype=np.int64)
    mask = np.zeros((len(rows), HIST_LEN), dtype=np.float32)
    for n, r in enumerate(rows):
        h = [int(x) for x in r[col["hist"]].split("|") if x][:HIST_LEN]
        hist[n, :len(h)], mask[n, :len(h)] = h, 1
    ctr = np.array([[float(r[col["item_ctr"]])] for r in rows], dtype=np.float32)
    labels = np.array([[float(r[col[c]]) for c in LABELS] for r in rows], dtype=np.float32)
    log(f"read {len(rows)} rows from {path} in {time.perf_counter() - t:.1f} s")
    return Data(ids, torch.from_numpy(hist), torch.from_numpy(mask), torch.from_numpy(ctr),
                torch.from_numpy(labels), path)


def random_data(rows, seed=0):
    """Uniform ids (a pessimistic case for the sparse optimizer: more distinct rows per batch
    than Zipf ids) and the 1:1:4:20 tag mix of SS-ABC(fixed)."""
    g = torch.Generator().manual_seed(seed)
    ids = {n: torch.randint(v, (rows,), generator=g) for n, v in VOCAB.items()}
    hist = torch.randint(VOCAB["item_id"], (rows, HIST_LEN), generator=g)
    length = torch.randint(HIST_LEN + 1, (rows, 1), generator=g)
    mask = (torch.arange(HIST_LEN)[None, :] < length).float()
    hist = hist * mask.long()
    ctr = torch.rand(rows, 1, generator=g) * 0.2
    space = torch.tensor([0] + [1] + [2] * 4 + [3] * 20)[torch.randint(26, (rows,), generator=g)]
    tags = F.one_hot(space, 4).float()
    labels = torch.cat([tags[:, :1], tags, tags[:, :3].sum(1, keepdim=True),
                        tags[:, :2].sum(1, keepdim=True)], 1)
    return Data(ids, hist, mask, ctr, labels, "random")


# ---------------------------------------------------------------------------------------------
# The model.

def mlp(width, sizes, last=None):
    """ReLU layers of `sizes`, then a linear layer of `last` outputs when given (Glorot-uniform
    weights, zero biases, as recc's dense layers)."""
    layers = []
    for h in sizes:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    if last:
        layers.append(nn.Linear(width, last))
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


class Uma2(nn.Module):
    def __init__(self, mu, sigma):
        super().__init__()
        self.tables = nn.ModuleDict({n: nn.Embedding(v, DIM, sparse=True) for n, v in VOCAB.items()})
        for t in self.tables.values():
            nn.init.uniform_(t.weight, -0.05, 0.05)
        self.user_tower, self.item_tower = mlp(USER_WIDTH, TOWER, 32), mlp(ITEM_WIDTH, TOWER, 32)
        self.er_head = mlp(USER_WIDTH + ITEM_WIDTH, HEAD, 1)
        self.re_head = mlp(USER_WIDTH + ITEM_WIDTH, HEAD, 1)
        self.register_buffer("mu", mu)
        self.register_buffer("sigma", sigma)

    def dense_parameters(self):
        return [p for n, p in self.named_parameters() if not n.startswith("tables.")]

    def features(self, ids, hist, mask, ctr):
        """f_u [B, 256] and f_i [B, 129] (uma2.rec's f_u, f_i)."""
        e_hist = (self.tables["item_id"](hist) * mask[:, :, None]).sum(1)
        e_hist = e_hist / mask.sum(1, keepdim=True).clamp_min(1)
        f_u = torch.cat([self.tables[n](ids[n]) for n in USER_FIELDS] + [e_hist], 1)
        f_i = torch.cat([self.tables[n](ids[n]) for n in ITEM_FIELDS]
                        + [torch.tanh((ctr - self.mu) / self.sigma)], 1)
        return f_u, f_i

    def forward(self, ids, hist, mask, ctr):
        """s (the GMM's logit), p1 (ER) and p2 (RE), each [B]; when serving also uma2.rec's
        output top_items = top_k(v_u, v_i, k = 200): each row's 200 best batch items."""
        f_u, f_i = self.features(ids, hist, mask, ctr)
        v_u, v_i = self.user_tower(f_u), self.item_tower(f_i)
        s = (v_u * v_i).sum(1)
        both = torch.cat([f_u, f_i], 1)
        p1 = torch.sigmoid(self.er_head(both)).squeeze(1)
        p2 = torch.sigmoid(self.re_head(both)).squeeze(1)
        if self.training:
            return s, p1, p2
        top = torch.topk(v_u @ v_i.T, min(200, v_i.shape[0]), dim=1)
        return torch.sigmoid(s), p1, p2, top

    def loss(self, ids, hist, mask, ctr, labels):
        s, p1, p2 = self(ids, hist, mask, ctr)[:3]
        click, pos, a, b, c, recalled, exposed = labels.unbind(1)
        with torch.no_grad():  # stop_gradient on the IPW weights (spec A.8.2)
            c1, c2 = p1.clamp(P_MIN, 1), p2.clamp(P_MIN, 1)
            w = pos + c + a / (c1 * c2) + b / c1
        gmm = F.binary_cross_entropy_with_logits(s, click, weight=w)
        er = F.binary_cross_entropy(p1.clamp(EPS, 1 - EPS), recalled)
        re_terms = F.binary_cross_entropy(p2.clamp(EPS, 1 - EPS), exposed, reduction="none")
        re = (re_terms * recalled).sum() / recalled.sum().clamp_min(1)
        return gmm + er + re


def dense_forward_flops_per_sample():
    """GEMM FLOPs of one sample's forward pass: 2 * sum(in * out) over the towers and heads."""
    def layers(widths):
        return sum(x * y for x, y in zip(widths, widths[1:]))
    towers = layers([USER_WIDTH] + TOWER + [32]) + layers([ITEM_WIDTH] + TOWER + [32])
    heads = 2 * layers([USER_WIDTH + ITEM_WIDTH] + HEAD + [1])
    return 2 * (towers + heads)


# ---------------------------------------------------------------------------------------------
# Measurements.

def train(model, data, args):
    dense = torch.optim.Adam(model.dense_parameters(), lr=1e-3)
    sparse = torch.optim.SparseAdam(list(model.tables.parameters()), lr=1e-3)
    return common.timed_training(model, data, args, dense, sparse)


def infer(model, data, args):
    return common.timed_inference(model, data, args)


def main():
    args = ARGS
    blas, sgemm = common.start_peer(args, CORETYPE)
    data = load_csv(args.data, args.max_rows) if args.data else random_data(64 * args.batch)
    if data.rows < args.batch:
        sys.exit(f"torch_uma2: {data.rows} rows are fewer than one batch of {args.batch}")
    model = Uma2(data.mu, data.sigma)
    common.measure_and_report(model, data, args, train, infer, dense_forward_flops_per_sample(),
                              blas, sgemm, {"model": "uma2", "openblas_coretype_env": CORETYPE})


if __name__ == "__main__":
    main()
