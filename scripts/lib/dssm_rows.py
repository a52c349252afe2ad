"""DSSM's rows on gen_uma2's data (UMA² reproduction, spec A.6: DSSM trains a
softmax over 1 clicked item plus 4 random negatives).

gen_uma2 has no text, so DSSM's "words" are the world's own tokens, in one
vocabulary (`query_vocab`): an item id i is word i (the click history), then
one word per user id, gender and age group. A query is the user's id, gender
and age words, then the most recent clicks, up to the model's 20 words.

The groups come from SS-ABC(random) (examples/uma2/README.md): each click is a
positive followed by 25 negatives drawn uniformly from the corpus, so every 4
of them in order, with the positive first, are one DSSM row (6 rows a click,
24 of the 25 negatives used): the same clicks and random negatives that the
SS-ABC(random) rows of Table 1 train on. Validation and test rows keep their
own item as the group's only candidate (`doc` = item id, the rest padded),
which is what the model's `p` and the retrieval's item tower read.
Standard library only.
"""

import csv

QUERY_LEN = 20
NEGATIVES = 4


def query_vocab(world):
    """Words: items, then users, then 3 genders, then 10 age groups."""
    return world["items"] + world["users"] + 3 + 10


def query_words(row, world):
    """The `|`-joined query of a gen_uma2 row (user_id, gender, age, hist)."""
    users_at = world["items"]
    genders_at = users_at + world["users"]
    ages_at = genders_at + 3
    words = [users_at + int(row["user_id"]), genders_at + int(row["gender"]),
             ages_at + int(row["age"])]
    hist = [int(i) for i in row["hist"].split("|") if i]
    words += hist[:QUERY_LEN - len(words)]
    return "|".join(map(str, words))


def groups(rows):
    """(positive row, [negative item ids]) per click of a training set whose
    rows are each click's positive followed by its negatives."""
    current = None
    for row in rows:
        if row["is_pos"] == "1":
            if current:
                yield current
            current = (row, [])
        elif current is None:
            raise ValueError(f"row of user {row['user_id']} before any positive")
        else:
            current[1].append(row["item_id"])
    if current:
        yield current


COLUMNS = ["user_id", "item_id", "query", "doc", "clicked"]


def training_rows(rows, world):
    """DSSM's rows: for each click, one row per NEGATIVES of its negatives."""
    for pos, negatives in groups(rows):
        query = query_words(pos, world)
        for at in range(0, len(negatives) - NEGATIVES + 1, NEGATIVES):
            doc = [pos["item_id"]] + negatives[at:at + NEGATIVES]
            yield [pos["user_id"], pos["item_id"], query, "|".join(doc), "1"]


def single_rows(rows, world):
    """Validation or test rows: the row's own item the only candidate."""
    for row in rows:
        yield [row["user_id"], row["item_id"], query_words(row, world), row["item_id"],
               row["click"]]


def write(src, dst, world, make_rows):
    """Writes dst (COLUMNS) from gen_uma2's file src; returns the rows written."""
    n = 0
    with open(src, newline="") as f, open(dst, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in make_rows(csv.DictReader(f), world):
            writer.writerow(r)
            n += 1
    return n


def write_corpus(src, dst):
    """The corpus for DSSM's item tower: item_id and doc (the same id)."""
    with open(src, newline="") as f, open(dst, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["item_id", "doc"])
        for row in csv.DictReader(f):
            writer.writerow([row["item_id"], row["item_id"]])
