#!/usr/bin/env python3
"""Training data for ZEUS's id inputs at the paper's table sizes: the columns
of `dnn` in models/zeus.rec (query and product ids into 10^8-row tables, no
word-segment bags), with ids drawn from a pool of --distinct query ids and as
many product ids spread over the 10^8 rows, so training touches about that
many rows of each table (the exact count is what `recc train`'s memory check
counts). Used by bench/run_dynamic_tables.sh.

  zeus_ids_data.py OUT.csv [--rows 500000] [--distinct 1100000] [--seed 1]
"""
import argparse
import random

ROWS = 100_000_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--distinct", type=int, default=1_100_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    # Odd multipliers not divisible by 5 are bijections modulo 10^8.
    query = lambda k: k * 99_999_989 % ROWS
    product = lambda k: k * 73_939_133 % ROWS
    with open(a.out, "w") as f:
        f.write("tq_id,tq_cat,sq_id,sc_id,age,gender,scenario,q_ctr,q_clicks,power,match,click\n")
        for _ in range(a.rows):
            tq = rng.randrange(a.distinct)
            sq = "|".join(str(query(rng.randrange(a.distinct))) for _ in range(rng.randint(1, 10)))
            sc = "|".join(str(product(rng.randrange(a.distinct))) for _ in range(rng.randint(1, 10)))
            # The click follows the target query's id, so there is something to learn.
            click = int((tq % 3 == 0) != (rng.random() < 0.2))
            f.write(f"{query(tq)},{tq % 50000},{sq},{sc},{rng.randrange(120)},{rng.randrange(3)},"
                    f"{rng.randrange(3)},{rng.random():.4f},{rng.randrange(100)},"
                    f"{rng.random():.4f},{rng.randrange(2)},{click}\n")


if __name__ == "__main__":
    main()
