"""Metrics of a retrieve-then-rank cascade (DAMCAR, spec damcar.md 5.2-5.3).

Retrieval: for each test user, the list the retrieval model returned from the
whole corpus is judged at K (100, 200) against the user's test positives:
Recall, Precision and F1, F@K = 2PR/(P+R) of the averaged P and R (the paper's
Table 2 is consistent with this to 4 decimals). Recall can also be restricted
to a subset of the positives (e.g. the ones never exposed to the user in
training), averaged over the users that have at least one such positive.

Ranking: the ranking model re-scores the retrieved candidates and the top k
(10, 20) by its score are judged: NDCG, MAP, MRR and HitRate (standard: 1 if
any hit), plus the paper-compatible H@k = hits/k (spec 5.2: the paper's H@K
behaves like a precision). Every mean is over the users with at least one
positive. Standard library only.
"""

import math
import statistics


def f1(precision, recall):
    """2PR/(P+R); 0 when both are 0, None when either is unknown."""
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _mean(values):
    return statistics.fmean(values) if values else None


def retrieval_at_k(lists, positives, ks, subsets=None):
    """`lists`: {user: [item, ...]} best first; `positives`: {user: set of
    items}; `subsets`: {name: {user: set of items}} (each a subset of the
    user's positives). Returns {"recall@K", "precision@K", "f1@K",
    "recall@K/<name>", "users", "users/<name>"}: each metric the mean over the
    users with a positive (a user without a list retrieved nothing). P@K
    divides by K even when a list is shorter."""
    users = [u for u in positives if positives[u]]
    out = {"users": len(users)}
    for k in ks:
        hits = {u: len(set(lists.get(u, [])[:k]) & positives[u]) for u in users}
        r = _mean([hits[u] / len(positives[u]) for u in users])
        p = _mean([hits[u] / k for u in users])
        out[f"recall@{k}"], out[f"precision@{k}"], out[f"f1@{k}"] = r, p, f1(p, r)
        for name, sub in (subsets or {}).items():
            have = [u for u in users if sub.get(u)]
            out[f"users/{name}"] = len(have)
            out[f"recall@{k}/{name}"] = _mean(
                [len(set(lists.get(u, [])[:k]) & sub[u]) / len(sub[u]) for u in have])
    return out


def rerank(candidates, scores):
    """The candidates ordered by the ranking model's score, best first; equal
    scores keep the retrieval order (the sort is stable)."""
    order = sorted(range(len(candidates)), key=lambda j: -scores[j])
    return [candidates[j] for j in order]


def user_ranking_metrics(ranked, positives, k):
    """NDCG, MAP, MRR, HitRate and hits/k of one user's ranked list at k.
    NDCG's ideal DCG and MAP's normaliser count min(k, |positives|) hits."""
    dcg, ap, rr, hits = 0.0, 0.0, 0.0, 0
    for r, item in enumerate(ranked[:k], start=1):
        if item in positives:
            hits += 1
            dcg += 1 / math.log2(r + 1)
            ap += hits / r
            rr = rr or 1 / r
    ideal = min(k, len(positives))
    idcg = sum(1 / math.log2(r + 1) for r in range(1, ideal + 1))
    return {"ndcg": dcg / idcg, "map": ap / ideal, "mrr": rr, "hitrate": float(hits > 0),
            "hits_per_k": hits / k}


def ranking_at_k(ranked_lists, positives, ks):
    """{"ndcg@k", "map@k", "mrr@k", "hitrate@k", "h_paper@k"}: means over the
    users with a positive of user_ranking_metrics; a user without a list
    scores 0."""
    users = [u for u in positives if positives[u]]
    out = {}
    for k in ks:
        per = [user_ranking_metrics(ranked_lists.get(u, []), positives[u], k) for u in users]
        for name, key in (("ndcg", "ndcg"), ("map", "map"), ("mrr", "mrr"),
                          ("hitrate", "hitrate"), ("h_paper", "hits_per_k")):
            out[f"{name}@{k}"] = _mean([m[key] for m in per])
    return out
