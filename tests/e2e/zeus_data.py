#!/usr/bin/env python3
"""Small random data in the schema of models/zeus.rec, for the stage tests.

One latent intent per row picks the behaviour sequences (queries, products,
their word bags and categories); a candidate query of that intent is the
positive more often. Vocabularies fit the small copy of zeus.rec the test
makes (query/product ids < 1000, word ids < 300, categories < 50).
Writes DIR/pre.csv (searched label, scenario 9: the search box), DIR/all.csv
(click label, scenarios 0-2 pooled) and DIR/scn{0,1,2}.csv."""
import random
import sys

COLUMNS = ['tq_id', 'tq_ws', 'tq_cat', 'sq_id', 'sq_ws', 'sq_cat', 'sc_id', 'sc_ws',
           'sc_cat', 'sc_brand', 'age', 'gender', 'scenario', 'q_ctr', 'q_clicks',
           'power', 'match']


def row(rnd, scenario, categories=50):
    intent = rnd.randrange(categories)
    query = lambda c: c * 20 + rnd.randrange(20)
    words = lambda c, n: [str(c * 6 + rnd.randrange(6)) for _ in range(n)]
    bag = lambda c: ';'.join(words(c, rnd.randint(0, 4)))  # may be empty
    sq = [query(intent) for _ in range(rnd.randint(0, 10))]
    sc = [intent * 20 + rnd.randrange(20) for _ in range(rnd.randint(0, 10))]
    y = int(rnd.random() < 0.4)
    target = intent if y and rnd.random() < 0.9 else rnd.randrange(categories)
    join = lambda xs: '|'.join(map(str, xs))
    return [query(target), join(words(target, rnd.randint(1, 3))), target,
            join(sq), join(bag(intent) for _ in sq), join(intent for _ in sq),
            join(sc), join(bag(intent) for _ in sc), join(intent for _ in sc),
            join(rnd.randrange(50) for _ in sc),
            rnd.randrange(120), rnd.randrange(3), scenario,
            round(rnd.random(), 3), rnd.randrange(1000), round(rnd.gauss(5, 2), 3),
            rnd.randrange(2), y]


def write(path, label, scenarios, rows, seed):
    rnd = random.Random(seed)
    with open(path, 'w') as f:
        f.write(','.join(COLUMNS + [label]) + '\n')
        for _ in range(rows):
            f.write(','.join(map(str, row(rnd, rnd.choice(scenarios)))) + '\n')


if __name__ == '__main__':
    out = sys.argv[1]
    write(f'{out}/pre.csv', 'searched', [9], 1024, 1)
    write(f'{out}/all.csv', 'click', [0, 1, 2], 768, 2)
    for k in range(3):
        write(f'{out}/scn{k}.csv', 'click', [k], 256, 3 + k)
