"""The glue between the stages of a cascade (DAMCAR, spec damcar.md 4.1).

A stage's predictions (`recc predict`: one CSV row of outputs per input row,
in the input's order) become columns of the next stage's input: the rows of
one or more source files, each kept with its own columns (the user and item
ids among them) and given the predicted columns and constants. And a retrieval
model's top-K lists (`recc predict --corpus`) become the ranking model's
candidate rows, each retrieved item with its features from the corpus.
Standard library only; files are streamed or held as text, never parsed into
numbers, so that a value passes through unchanged.
"""

import csv


class JoinError(Exception):
    """A file does not fit the join; the message names the file and why."""


def read_header(path):
    with open(path, newline="") as f:
        return next(csv.reader(f), None) or []


def read_columns(path, names):
    """{name: [value per row]} of the named columns of a CSV (as text)."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        missing = [n for n in names if n not in header]
        if missing:
            raise JoinError(f"{path}: no column {', '.join(map(repr, missing))}; header has: "
                            f"{', '.join(header)}")
        index = [header.index(n) for n in names]
        values = {n: [] for n in names}
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise JoinError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            for n, i in zip(names, index):
                values[n].append(row[i])
    return values


def write_stage_input(out, columns, parts):
    """Writes `out` with the header `columns`: the rows of each part in turn.
    A part is (source CSV, {column: value}), where a value is a constant
    (text) or a list with one value per source row (a stage's predictions);
    every other column comes from the source row. Returns the rows written."""
    rows = 0
    with open(out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for source, extra in parts:
            rows += _write_part(writer, columns, source, extra)
    return rows


def _write_part(writer, columns, source, extra):
    with open(source, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        missing = [c for c in columns if c not in extra and c not in header]
        if missing:
            raise JoinError(f"{source}: no column {', '.join(map(repr, missing))} and no value "
                            f"given for it; header has: {', '.join(header)}")
        picks = [(c, extra[c]) if c in extra else (c, header.index(c)) for c in columns]
        n = 0
        for n, row in enumerate(reader, start=1):
            out = []
            for c, how in picks:
                if isinstance(how, int):
                    out.append(row[how])
                elif isinstance(how, str):
                    out.append(how)
                else:
                    if n > len(how):
                        raise JoinError(f"{source}: more rows than the {len(how)} values of "
                                        f"column '{c}'")
                    out.append(how[n - 1])
            writer.writerow(out)
    for c, how in extra.items():
        if not isinstance(how, str) and len(how) != n:
            raise JoinError(f"{source}: {n} rows, but column '{c}' has {len(how)} values")
    return n


def read_lists(path):
    """{user: [item, ...]} best first from `recc predict --corpus`'s CSV
    (user_key,rank,item_key,score); ids as text."""
    lists = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for need in ("user_key", "rank", "item_key"):
            if need not in (reader.fieldnames or []):
                raise JoinError(f"{path}: no column '{need}' (expected recc predict --corpus's "
                                "user_key,rank,item_key,score)")
        for row in reader:
            lists.setdefault(row["user_key"], []).append((int(row["rank"]), row["item_key"]))
    return {u: [i for _, i in sorted(ranked)] for u, ranked in lists.items()}


def write_candidates(out, lists, corpus, user_col="user_id", item_col="item_id"):
    """Writes one row per (user, retrieved item), users in `lists`' order and
    items best first: `user_col`, then every column of the corpus row of the
    item (its `item_col` among them). Returns the (user, item) pairs in the
    order written, to line up with the ranking model's predictions."""
    with open(corpus, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        if item_col not in header:
            raise JoinError(f"{corpus}: no column '{item_col}'; header has: {', '.join(header)}")
        key = header.index(item_col)
        items = {row[key]: row for row in reader}
    pairs = []
    with open(out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([user_col] + header)
        for user, ranked in lists.items():
            for item in ranked:
                if item not in items:
                    raise JoinError(f"item {item} retrieved for user {user} is not in {corpus}")
                writer.writerow([user] + items[item])
                pairs.append((user, item))
    return pairs


def group_scores(pairs, scores):
    """({user: [item, ...]}, {user: [score, ...]}) from the pairs of
    write_candidates and the ranking model's score of each, in that order."""
    if len(pairs) != len(scores):
        raise JoinError(f"{len(pairs)} candidates but {len(scores)} scores")
    items, values = {}, {}
    for (user, item), score in zip(pairs, scores):
        items.setdefault(user, []).append(item)
        values.setdefault(user, []).append(float(score))
    return items, values
