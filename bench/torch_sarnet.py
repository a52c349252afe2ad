#!/usr/bin/python3
"""bench/torch_sarnet.py: the PyTorch eager peer that recc's SAR-Net is measured against.

It builds SAR-Net in plain PyTorch 1.13 exactly as models/sarnet.rec defines it (see
bench/README.md), sets torch up as a knowledgeable user would (torch_common.py: sparse
embedding gradients with SparseAdam, a fixed thread count, OMP_WAIT_POLICY=PASSIVE, OpenBLAS's
fastest core type that computes correctly), and measures in one run: training and inference
samples/s, peak RSS, the dense GFLOP/s those imply, and the machine's SGEMM GFLOP/s at the same
thread count. It prints one JSON object on stdout; diagnostics go to stderr.

Use Debian's interpreter (/usr/bin/python3): python3-torch lives there, not in a pyenv shim.
"""

import argparse
import sys

import torch_common as common


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", help="CSV with models/sarnet.rec's columns; random when absent")
    p.add_argument("--per-scenario", choices=["group", "gather"], default="group",
                   help="scenario-specific experts: rows grouped by scenario (one small GEMM "
                        "per scenario and layer) or each row's weights gathered (bmm)")
    common.add_common_args(p, batch=2048, steps=20, warmup=3)
    args = p.parse_args()
    common.check_common_args(p, args)
    return args


ARGS = parse_args()
# Before torch is imported: see torch_common.configure_environment.
CORETYPE = common.configure_environment(ARGS, "torch_sarnet")


import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import sarnet_data  # noqa: E402

S = 20          # scenarios (the `scenario` input's vocabulary)
D = 16          # embedding dim
T = sarnet_data.SEQ_LEN
V_WIDTH = 3 * D + 2 * D + 3 * D + 1 + 3 * D    # v = [v_cb, v_u, p_ti, item_score, p_ts]: 177
SPEC_EXPERTS, SHARED_EXPERTS = 2, 8
MAIN, BIAS = [200, 80], [16]                   # expert main net and bias net hidden widths
DIN = [80, 40]
BN_MOMENTUM, BN_EPS = 0.99, 1e-3               # recc's batch_norm defaults (keep 0.99 of run)
EPS = 1e-7
TABLES = {  # table: (rows, the id columns it embeds)
    "item": (1000000, ["item_id", "seq_item"]), "cat": (5000, ["category", "seq_cat"]),
    "dest": (2000, ["dest", "seq_dest"]), "scn": (400, ["scn_id", "seq_scn"]),
    "stype": (16, ["scn_type", "seq_type"]), "time": (16, ["scn_time", "seq_time"]),
    "user": (1000000, ["user_id"]),
    "country": (200, ["country"]),
}


# ---------------------------------------------------------------------------------------------
# Data: columns as tensors. Ids are stored +1 so that the padding id -1 becomes row 0, the
# embeddings' padding_idx (a zero row that gets no gradient).

class Data:
    def __init__(self, cols, source):
        self.source = source
        self.ids = {n: torch.from_numpy(cols[n] + 1) for n in
                    list(sarnet_data.ID_FIELDS) + list(sarnet_data.SEQ_FIELDS)}
        self.item_score = torch.from_numpy(cols["item_score"])
        self.fc = torch.from_numpy(cols["fc"])
        self.click = torch.from_numpy(cols[sarnet_data.LABEL])
        self.rows = self.click.shape[0]
        # tanh_zscore's statistics, from the data the model trains on.
        self.mu = float(self.item_score.mean())
        self.sigma = max(float(self.item_score.std(unbiased=False)), 1e-6)

    def batch(self, step, size):
        start = (step * size) % (self.rows - size + 1)
        sl = slice(start, start + size)
        return ({k: v[sl] for k, v in self.ids.items()}, self.item_score[sl], self.fc[sl],
                self.click[sl])


# ---------------------------------------------------------------------------------------------
# The model.

class DinUnit(nn.Module):
    """psi(k, q): MLP 80-40-1 on [k, q, k - q, k * q] at every behaviour."""

    def __init__(self, d):
        super().__init__()
        self.net = common.mlp([4 * d] + DIN, 1)

    def forward(self, k, q):
        qk = q.unsqueeze(1).expand_as(k)
        return self.net(torch.cat([k, qk, k - qk, k * qk], 2)).squeeze(2)


def masked_softmax(x, m):
    """recc's masked_softmax: masked entries get zero weight, an all-masked row all zeros."""
    x = x * m + (m - 1) * 1e9
    e = torch.exp(x - x.max(1, keepdim=True).values) * m
    return e / e.sum(1, keepdim=True).clamp_min(1e-30)


def glorot(*shape):
    """Per-scenario Glorot-uniform weights [S, n, m] (fan-in n, fan-out m)."""
    n, m = shape[-2], shape[-1]
    bound = (6.0 / (n + m)) ** 0.5
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


class SharedExpert(nn.Module):
    """main = sigmoid(mlp(bn(x))); bias = sigmoid(mlp(bn(log fc))), training only."""

    def __init__(self):
        super().__init__()
        self.bn_main = nn.BatchNorm1d(V_WIDTH, eps=BN_EPS, momentum=1 - BN_MOMENTUM)
        self.main = common.mlp([V_WIDTH] + MAIN, 1)
        self.bn_bias = nn.BatchNorm1d(1, eps=BN_EPS, momentum=1 - BN_MOMENTUM)
        self.bias = common.mlp([1] + BIAS, 1)

    def forward(self, x, fc):
        main = torch.sigmoid(self.main(self.bn_main(x)))
        if not self.training:
            return main
        return main * torch.sigmoid(self.bias(self.bn_bias(fc)))


class ScenarioExperts(nn.Module):
    """`n` experts whose every parameter, batch-norm statistic included, is chosen by the
    row's scenario: weights [S, n_in, n_out], running statistics [S, d]."""

    def __init__(self, n):
        super().__init__()
        self.n = n
        widths = {"main": [V_WIDTH] + MAIN + [1], "bias": [1] + BIAS + [1]}
        self.w = nn.ParameterDict()
        self.b = nn.ParameterDict()
        self.gamma, self.beta = nn.ParameterDict(), nn.ParameterDict()
        for e in range(n):
            for net, ws in widths.items():
                key = f"{net}{e}"
                for i, (a, c) in enumerate(zip(ws, ws[1:])):
                    self.w[f"{key}_{i}"] = glorot(S, a, c)
                    self.b[f"{key}_{i}"] = nn.Parameter(torch.zeros(S, c))
                self.gamma[key] = nn.Parameter(torch.ones(S, ws[0]))
                self.beta[key] = nn.Parameter(torch.zeros(S, ws[0]))
                self.register_buffer(f"mean_{key}", torch.zeros(S, ws[0]))
                self.register_buffer(f"var_{key}", torch.ones(S, ws[0]))
        self.layers = {net: len(ws) - 1 for net, ws in widths.items()}

    # -- grouped: rows sorted by scenario, every scenario's segment through its own weights.

    def _bn_segment(self, key, s, x):
        mean_run, var_run = getattr(self, f"mean_{key}"), getattr(self, f"var_{key}")
        if self.training and x.shape[0] >= 2:   # fewer rows: running statistics (spec 7.14)
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                mean_run[s].mul_(BN_MOMENTUM).add_((1 - BN_MOMENTUM) * mean)
                var_run[s].mul_(BN_MOMENTUM).add_((1 - BN_MOMENTUM) * var)
        else:
            mean, var = mean_run[s], var_run[s]
        return (x - mean) * torch.rsqrt(var + BN_EPS) * self.gamma[key][s] + self.beta[key][s]

    def _net_segment(self, key, net, s, x):
        h = self._bn_segment(key, s, x)
        for i in range(self.layers[net]):
            h = torch.addmm(self.b[f"{key}_{i}"][s], h, self.w[f"{key}_{i}"][s])
            h = torch.relu(h) if i + 1 < self.layers[net] else torch.sigmoid(h)
        return h

    def grouped(self, x, fc, scenario):
        order = torch.argsort(scenario)
        counts = torch.bincount(scenario, minlength=S).tolist()
        xs, fs = x[order].split(counts), fc[order].split(counts)
        outs = []
        for s in range(S):
            if counts[s] == 0:
                continue
            cols = []
            for e in range(self.n):
                o = self._net_segment(f"main{e}", "main", s, xs[s])
                if self.training:
                    o = o * self._net_segment(f"bias{e}", "bias", s, fs[s])
                cols.append(o)
            outs.append(torch.cat(cols, 1))
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.shape[0])
        return torch.cat(outs, 0)[inverse]

    # -- gathered: every row's weights gathered by its scenario, applied with bmm.

    def _bn_gather(self, key, x, scenario, one_hot, counts):
        mean_run, var_run = getattr(self, f"mean_{key}"), getattr(self, f"var_{key}")
        if self.training:
            seen = (counts >= 2).unsqueeze(1)
            safe = counts.clamp_min(1).unsqueeze(1)
            mean = torch.where(seen, one_hot.t() @ x / safe, mean_run)
            c = x - mean[scenario]
            var = torch.where(seen, one_hot.t() @ (c * c) / safe, var_run)
            with torch.no_grad():
                mean_run.mul_(BN_MOMENTUM).add_((1 - BN_MOMENTUM) * mean)
                var_run.mul_(BN_MOMENTUM).add_((1 - BN_MOMENTUM) * var)
        else:
            mean, var = mean_run, var_run
        return ((x - mean[scenario]) * torch.rsqrt(var[scenario] + BN_EPS)
                * self.gamma[key][scenario] + self.beta[key][scenario])

    def _net_gather(self, key, net, x, scenario, one_hot, counts):
        h = self._bn_gather(key, x, scenario, one_hot, counts).unsqueeze(1)
        for i in range(self.layers[net]):
            h = torch.baddbmm(self.b[f"{key}_{i}"][scenario].unsqueeze(1), h,
                              self.w[f"{key}_{i}"][scenario])
            h = torch.relu(h) if i + 1 < self.layers[net] else torch.sigmoid(h)
        return h.squeeze(1)

    def gathered(self, x, fc, scenario):
        one_hot = F.one_hot(scenario, S).float()
        counts = one_hot.sum(0)
        cols = []
        for e in range(self.n):
            o = self._net_gather(f"main{e}", "main", x, scenario, one_hot, counts)
            if self.training:
                o = o * self._net_gather(f"bias{e}", "bias", fc, scenario, one_hot, counts)
            cols.append(o)
        return torch.cat(cols, 1)


class SarNet(nn.Module):
    def __init__(self, mu, sigma, per_scenario):
        super().__init__()
        self.per_scenario = per_scenario
        self.mu, self.sigma = mu, sigma
        self.tables = nn.ModuleDict()
        for name, (rows, _) in TABLES.items():
            t = nn.Embedding(rows + 1, D, padding_idx=0, sparse=True)
            nn.init.uniform_(t.weight, -0.05, 0.05)
            with torch.no_grad():
                t.weight[0].zero_()
            self.tables[name] = t
        self.din_i, self.din_s = DinUnit(3 * D), DinUnit(3 * D)
        self.beta = nn.Parameter(torch.ones(S, V_WIDTH))     # v2 = v * beta[s] + gamma[s]
        self.gamma = nn.Parameter(torch.zeros(S, V_WIDTH))
        self.spec = ScenarioExperts(SPEC_EXPERTS)
        self.shared = nn.ModuleList(SharedExpert() for _ in range(SHARED_EXPERTS))
        self.gate_w = glorot(S, V_WIDTH, SPEC_EXPERTS + SHARED_EXPERTS)
        self.gate_b = nn.Parameter(torch.zeros(S, SPEC_EXPERTS + SHARED_EXPERTS))

    def embed(self, table, ids):
        return self.tables[table](ids)

    def forward(self, ids, item_score, fc):
        e = self.embed
        p_ti = torch.cat([e("item", ids["item_id"]), e("cat", ids["category"]),
                          e("dest", ids["dest"])], 1)
        p_ts = torch.cat([e("scn", ids["scn_id"]), e("stype", ids["scn_type"]),
                          e("time", ids["scn_time"])], 1)
        P_i = torch.cat([e("item", ids["seq_item"]), e("cat", ids["seq_cat"]),
                         e("dest", ids["seq_dest"])], 2)
        P_s = torch.cat([e("scn", ids["seq_scn"]), e("stype", ids["seq_type"]),
                         e("time", ids["seq_time"])], 2)
        m = (ids["seq_item"] > 0).float()
        v_u = torch.cat([e("user", ids["user_id"]), e("country", ids["country"])], 1)
        a_i = masked_softmax(self.din_i(P_i, p_ti), m)
        a_s = masked_softmax(self.din_s(P_s, p_ts), m)
        v_cb = torch.bmm((a_i * a_s).unsqueeze(1), P_i).squeeze(1)
        score = torch.tanh((item_score - self.mu) / self.sigma).unsqueeze(1)
        v = torch.cat([v_cb, v_u, p_ti, score, p_ts], 1)
        scenario = ids["scenario"] - 1
        v2 = v * self.beta[scenario] + self.gamma[scenario]
        f = torch.log(fc.clamp(0.1, 10)).unsqueeze(1)   # the bias nets read log(fc), clipped
        o_spec = (self.spec.grouped if self.per_scenario == "group" else self.spec.gathered)(
            v2, f, scenario)
        o_shared = torch.cat([ex(v2, f) for ex in self.shared], 1)
        logits = torch.baddbmm(self.gate_b[scenario].unsqueeze(1), v2.unsqueeze(1),
                               self.gate_w[scenario]).squeeze(1)
        g = torch.softmax(logits, 1)
        return (g * torch.cat([o_spec, o_shared], 1)).sum(1)

    def loss(self, ids, item_score, fc, click):
        """Bias Adapting Loss: BCE on the clamped probability, weighted by fc, batch mean."""
        p = self(ids, item_score, fc).clamp(EPS, 1 - EPS)
        return -(fc * (click * torch.log(p) + (1 - click) * torch.log(1 - p))).mean()


def dense_forward_flops_per_sample():
    """GEMM FLOPs of one sample's forward pass in the eval graph (no bias nets): the two DIN
    units at all T behaviours, the ten experts' main nets and the gate; 2 * sum(in * out)."""
    def macs(widths):
        return sum(a * b for a, b in zip(widths, widths[1:]))
    din = T * 2 * macs([4 * 3 * D] + DIN + [1])
    experts = (SPEC_EXPERTS + SHARED_EXPERTS) * macs([V_WIDTH] + MAIN + [1])
    gate = V_WIDTH * (SPEC_EXPERTS + SHARED_EXPERTS)
    return 2 * (din + experts + gate)


# ---------------------------------------------------------------------------------------------
# Measurements.

def train(model, data, args):
    sparse_params = list(model.tables.parameters())
    dense_params = [p for n, p in model.named_parameters() if not n.startswith("tables.")]
    dense = torch.optim.Adam(dense_params, lr=1e-3)
    sparse = torch.optim.SparseAdam(sparse_params, lr=1e-3)
    return common.timed_training(model, data, args, dense, sparse)


def infer(model, data, args):
    return common.timed_inference(model, data, args)


def main():
    args = ARGS
    blas, sgemm = common.start_peer(args, CORETYPE, f", per-scenario experts: {args.per_scenario}")
    if args.data:
        data = Data(sarnet_data.read_csv(args.data, args.max_rows), args.data)
    else:
        data = Data(sarnet_data.random_columns(args.batch * (args.steps + args.warmup)), "random")
    if data.rows < args.batch:
        sys.exit(f"torch_sarnet: {data.rows} rows are fewer than one batch of {args.batch}")
    model = SarNet(data.mu, data.sigma, args.per_scenario)
    common.measure_and_report(
        model, data, args, train, infer, dense_forward_flops_per_sample(), blas, sgemm,
        {"model": "sarnet", "openblas_coretype_env": CORETYPE, "per_scenario": args.per_scenario})


if __name__ == "__main__":
    main()
