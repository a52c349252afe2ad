#!/usr/bin/python3
"""bench/torch_zeus.py: the PyTorch eager peer that recc's ZEUS is measured against.

It builds ZEUS's Sequential Interest Model (DMT: two Transformer encoder-decoder blocks over
the last 10 queries and the last 10 clicked products, then an MLP 512-256-64-1) in plain
PyTorch 1.13 exactly as models/zeus.rec defines it, and trains one stage:
  --stage pretrain   next-query prediction on pretrain.csv (label `searched`), every table
                     trainable;
  --stage finetune   clicks on train.csv (label `click`), the global query and product tables
                     frozen (spec 3.1).
Adagrad (lr 0.01, initial accumulator 0.1) on dense parameters, its sparse variant on the
embedding tables (sparse gradients). Set up as torch_common.py describes; it prints one JSON
object on stdout with training and inference samples/s, peak RSS, GFLOP/s and the same run's
SGEMM rate.

Use Debian's interpreter (/usr/bin/python3): python3-torch lives there.
"""

import argparse
import sys

import torch_common as common


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", help="gen_zeus CSV (pretrain.csv or train.csv); random when absent")
    p.add_argument("--stage", choices=["pretrain", "finetune"], default="pretrain")
    common.add_common_args(p, batch=1024, steps=20, warmup=3)
    args = p.parse_args()
    common.check_common_args(p, args)
    return args


ARGS = parse_args()
CORETYPE = common.configure_environment(ARGS, "torch_zeus")  # before torch loads


import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import zeus_data  # noqa: E402

D, HEADS, FFN, L = 128, 8, 512, zeus_data.SEQ_LEN
SCALE = 11.3137          # sqrt(d), D7
DROPOUT = 0.1
LN_EPS = 1e-8
MLP = [512, 256, 64]
SMALL_TABLES = {  # name: (rows, dim); ids arrive +1, row 0 is padding
    "qws": (1000000, 16), "qcat": (50000, 16), "pws": (1000000, 16), "pcat": (50000, 16),
    "brand": (50000, 16), "age": (120, 4), "gender": (3, 4), "scn": (10, 4),
}
Z_WIDTH = 4 + 4 + 4 + 64 + 4 + 2 * D


class Data:
    def __init__(self, cols, label, source):
        self.source = source
        self.table_rows = zeus_data.compact_global_ids(cols)
        self.ids = {n: torch.from_numpy(cols[n]) for n in
                    list(zeus_data.IDS) + ["tq_ws"] + list(zeus_data.LISTS) + list(zeus_data.BAGS)}
        dense = torch.stack([torch.from_numpy(cols[n]) for n in zeus_data.DENSE], 1)
        # zscore with the training data's statistics (spec D5).
        self.dense = (dense - dense.mean(0)) / dense.std(0, unbiased=False).clamp_min(1e-6)
        self.label = torch.from_numpy(cols[label])
        self.rows = self.label.shape[0]

    def batch(self, step, size):
        start = (step * size) % (self.rows - size + 1)
        sl = slice(start, start + size)
        return {k: v[sl] for k, v in self.ids.items()}, self.dense[sl], self.label[sl]


def table(rows, dim):
    t = nn.Embedding(rows + 1, dim, padding_idx=0, sparse=True)
    nn.init.uniform_(t.weight, -0.05, 0.05)
    with torch.no_grad():
        t.weight[0].zero_()
    return t


def masked_softmax(x, m):
    """recc's masked_softmax: masked entries get zero weight, an all-masked row all zeros."""
    x = x * m + (m - 1) * 1e9
    e = torch.exp(x - x.max(-1, keepdim=True).values) * m
    return e / e.sum(-1, keepdim=True).clamp_min(1e-30)


def split_heads(x):
    b, n, _ = x.shape
    return x.view(b, n, HEADS, D // HEADS).transpose(1, 2)


def merge_heads(x):
    b, h, n, e = x.shape
    return x.transpose(1, 2).reshape(b, n, h * e)


class Attention(nn.Module):
    """zeus.rec's attention + attend + ffn: post-LN MHA without an output projection."""

    def __init__(self):
        super().__init__()
        linear = common.linear
        self.q, self.k, self.v = linear(D, D), linear(D, D), linear(D, D)
        self.ln1, self.ln2 = nn.LayerNorm(D, eps=LN_EPS), nn.LayerNorm(D, eps=LN_EPS)
        self.f1, self.f2 = linear(D, FFN), linear(FFN, D)

    def forward(self, q_in, k_in, m):
        s = split_heads(self.q(q_in)) @ split_heads(self.k(k_in)).transpose(2, 3) / 4
        a = F.dropout(masked_softmax(s, m[:, None, None, :]), DROPOUT, self.training)
        h = self.ln1(q_in + merge_heads(a @ split_heads(self.v(k_in))))
        return self.ln2(h + self.f2(torch.relu(self.f1(h))))


class Dit(nn.Module):
    """One Deep Interest Transformer: encoder over a sequence, decoder from the target."""

    def __init__(self, d_in):
        super().__init__()
        self.proj, self.pos = common.linear(d_in, D), nn.Parameter(torch.randn(L, D) * 0.01)
        self.encoder, self.decoder = Attention(), Attention()
        self.target = common.linear(64, D)

    def forward(self, x, m, t):
        h = F.dropout(self.proj(x) * SCALE + self.pos, DROPOUT, self.training)
        enc = self.encoder(h, h, m)
        tq = F.dropout(self.target(t) * SCALE, DROPOUT, self.training).unsqueeze(1)
        return self.decoder(tq, enc, m)[:, 0]


def bag_mean(e, ids):
    """Mean over the present ids of the last id axis (a bag); an empty bag gives zeros."""
    present = (ids > 0).float().unsqueeze(-1)
    return (e * present).sum(-2) / present.sum(-2).clamp_min(1)


class Sim(nn.Module):
    def __init__(self, table_rows, frozen_global):
        super().__init__()
        self.tables = nn.ModuleDict({n: table(r, d) for n, (r, d) in SMALL_TABLES.items()})
        self.tables["query"] = table(table_rows["query"], 32)
        self.tables["product"] = table(table_rows["product"], 32)
        if frozen_global:
            for n in ("query", "product"):
                self.tables[n].weight.requires_grad_(False)
        self.dit_q, self.dit_c = Dit(64), Dit(80)
        self.mlp = common.mlp([Z_WIDTH] + MLP, 1)

    def forward(self, ids, dense):
        e = lambda n, k: self.tables[n](ids[k])  # noqa: E731
        t = torch.cat([e("query", "tq_id"), bag_mean(e("qws", "tq_ws"), ids["tq_ws"]),
                       e("qcat", "tq_cat")], 1)
        x_q = torch.cat([e("query", "sq_id"), bag_mean(e("qws", "sq_ws"), ids["sq_ws"]),
                         e("qcat", "sq_cat")], 2)
        x_c = torch.cat([e("product", "sc_id"), bag_mean(e("pws", "sc_ws"), ids["sc_ws"]),
                         e("pcat", "sc_cat"), e("brand", "sc_brand")], 2)
        u_q = self.dit_q(x_q, (ids["sq_id"] > 0).float(), t)
        u_c = self.dit_c(x_c, (ids["sc_id"] > 0).float(), t)
        z = torch.cat([dense, e("age", "age"), e("gender", "gender"), t, e("scn", "scenario"),
                       u_q, u_c], 1)
        return self.mlp(z).squeeze(1)

    def loss(self, ids, dense, label):
        return F.binary_cross_entropy_with_logits(self(ids, dense), label)


def dense_forward_flops_per_sample():
    """GEMM FLOPs of one row's forward pass: per DIT the input projection, the encoder's
    Q/K/V, scores, weighted values and FFN over L positions, the decoder's target projection,
    Q, K/V over the encoder's L outputs, scores, values and FFN; then the MLP."""
    def dit(d_in):
        enc = L * d_in * D + 3 * L * D * D + 2 * L * L * D + 2 * L * D * FFN
        dec = 64 * D + D * D + 2 * L * D * D + 2 * L * D + 2 * D * FFN
        return enc + dec
    widths = [Z_WIDTH] + MLP + [1]
    mlp = sum(a * b for a, b in zip(widths, widths[1:]))
    return 2 * (dit(64) + dit(80) + mlp)


def train(model, data, args):
    sparse_params = [p for p in model.tables.parameters() if p.requires_grad]
    dense_params = [p for n, p in model.named_parameters() if not n.startswith("tables.")]
    dense = torch.optim.Adagrad(dense_params, lr=0.01, initial_accumulator_value=0.1)
    sparse = torch.optim.Adagrad(sparse_params, lr=0.01, initial_accumulator_value=0.1)
    return common.timed_training(model, data, args, dense, sparse)


def main():
    args = ARGS
    label = "searched" if args.stage == "pretrain" else "click"
    blas, sgemm = common.start_peer(args, CORETYPE, f", stage {args.stage}")
    if args.data:
        data = Data(zeus_data.read_csv(args.data, label, args.max_rows), label, args.data)
    else:
        rows = args.batch * (args.steps + args.warmup)
        data = Data(zeus_data.random_columns(rows, label), label, "random")
    if data.rows < args.batch:
        sys.exit(f"torch_zeus: {data.rows} rows are fewer than one batch of {args.batch}")
    model = Sim(data.table_rows, frozen_global=args.stage == "finetune")
    common.measure_and_report(
        model, data, args, train, common.timed_inference, dense_forward_flops_per_sample(),
        blas, sgemm, {"model": f"zeus_{args.stage}", "openblas_coretype_env": CORETYPE,
                      "table_rows": data.table_rows})


if __name__ == "__main__":
    main()
