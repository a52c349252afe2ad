"""bench/torch_retrieval.py: the PyTorch peer of `recc bench-retrieval` — the exact top-K of a
random corpus for many users, as a knowledgeable user writes it: torch.matmul of a block of users
against the whole corpus, then torch.topk, block after block (the full [users, items] score
matrix does not fit: 10,000 x 300,000 floats are 12 GB). Same sizes and the same kind of random
vectors as recc's; torch set up by torch_common.py (threads, OpenBLAS core type checked against
float64, OMP_WAIT_POLICY). Prints one JSON object.
"""

import argparse
import json
import sys
import time

import torch_common as tc


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=300000)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--k", type=int, default=200)
    p.add_argument("--user-block", type=int, default=512,
                   help="users scored per matmul (the score block is user-block x items floats)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=1, help="timed runs")
    p.add_argument("--json", metavar="OUT")
    p.add_argument("--omp-wait-policy", choices=["PASSIVE", "ACTIVE"], default="PASSIVE")
    p.add_argument("--openblas-coretype", default="auto")
    args = p.parse_args()
    for name in ("items", "users", "dim", "k", "user_block", "threads", "reps"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.k > args.items:
        p.error("--k must not exceed --items")
    return args


def retrieve(users, items, k, block):
    import torch
    scores = torch.empty(len(users), k)
    index = torch.empty(len(users), k, dtype=torch.long)
    items_t = items.t()
    with torch.inference_mode():
        for u0 in range(0, len(users), block):
            s = torch.matmul(users[u0:u0 + block], items_t)
            v, i = torch.topk(s, k, dim=1, largest=True, sorted=True)
            scores[u0:u0 + block] = v
            index[u0:u0 + block] = i
    return scores, index


def main():
    args = parse_args()
    coretype = tc.configure_environment(args, "torch_retrieval")
    import torch
    torch.set_num_threads(args.threads)
    tc.log(f"torch {torch.__version__}, {args.threads} threads, "
           f"OMP_WAIT_POLICY={args.omp_wait_policy}")
    check = tc.verify_sgemm_or_retry(args, coretype)
    blas = tc.blas_report()
    blas["sgemm_check"] = check
    blas["coretype_choice"] = tc.CORETYPE_CHOICE
    sgemm = [tc.sgemm_gflops()]
    g = torch.Generator().manual_seed(7)
    users = torch.randn(args.users, args.dim, generator=g)
    items = torch.randn(args.items, args.dim, generator=g)
    retrieve(users[:min(args.users, 256)], items, args.k, args.user_block)  # warm-up
    seconds, loads = [], []
    for _ in range(args.reps):
        load = tc.OtherLoad()
        t = time.perf_counter()
        retrieve(users, items, args.k, args.user_block)
        seconds.append(time.perf_counter() - t)
        loads.append(load.fraction())
    sgemm.append(tc.sgemm_gflops())
    gflop = 2.0 * args.users * args.items * args.dim / 1e9
    best = sorted(seconds)[len(seconds) // 2]
    result = {
        "peer": "pytorch-matmul-topk", "torch": torch.__version__, "threads": args.threads,
        "items": args.items, "users": args.users, "dim": args.dim, "k": args.k,
        "user_block": args.user_block, "blas": blas, "seconds": seconds,
        "median_seconds": best, "gflops": gflop / best,
        "sgemm_gflops": round(max(s for s, _ in sgemm), 1),
        "other_load": round(max(loads), 3), "peak_rss_mib": round(tc.peak_rss_mib(), 1),
    }
    if max(loads) > 0.05:
        tc.log(f"WARNING: other processes used {100 * max(loads):.0f}% of the machine")
    text = json.dumps(result)
    print(text, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
