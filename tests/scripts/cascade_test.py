"""Tests of the cascade reproduction's helpers (scripts/lib/cascade_metrics.py,
cascade_join.py) against values computed by hand."""

import csv
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "lib"))
import cascade_join as cj  # noqa: E402
import cascade_metrics as cm  # noqa: E402


class RetrievalTest(unittest.TestCase):
    def test_recall_precision_f1_by_hand(self):
        lists = {"u1": ["a", "b", "c", "d"], "u2": ["x", "y"]}
        positives = {"u1": {"a", "c", "z"}, "u2": {"y"}, "u3": set()}
        out = cm.retrieval_at_k(lists, positives, [2, 4])
        # K = 2: u1 hits {a} of 3, u2 hits {y} of 1; u3 has no positive and is not counted.
        self.assertEqual(out["users"], 2)
        self.assertAlmostEqual(out["recall@2"], (1 / 3 + 1) / 2)
        self.assertAlmostEqual(out["precision@2"], (1 / 2 + 1 / 2) / 2)
        # K = 4: u1 hits {a, c}; u2's list is shorter than K but P divides by K.
        self.assertAlmostEqual(out["recall@4"], (2 / 3 + 1) / 2)
        self.assertAlmostEqual(out["precision@4"], (2 / 4 + 1 / 4) / 2)
        p, r = out["precision@4"], out["recall@4"]
        self.assertAlmostEqual(out["f1@4"], 2 * p * r / (p + r))
        self.assertAlmostEqual(out["f1@4"], 2 * 0.375 * (5 / 6) / (0.375 + 5 / 6))

    def test_subsets_average_over_users_that_have_one(self):
        lists = {"u1": ["a", "b"], "u2": ["x"]}
        positives = {"u1": {"a", "b", "c"}, "u2": {"y"}}
        unexposed = {"u1": {"b", "c"}, "u2": set()}
        out = cm.retrieval_at_k(lists, positives, [1, 2], {"unexposed": unexposed})
        self.assertEqual(out["users/unexposed"], 1)
        self.assertAlmostEqual(out["recall@1/unexposed"], 0.0)
        self.assertAlmostEqual(out["recall@2/unexposed"], 0.5)

    def test_f1_edges(self):
        self.assertEqual(cm.f1(0.0, 0.0), 0.0)
        self.assertIsNone(cm.f1(None, 0.5))
        self.assertAlmostEqual(cm.f1(0.0113, 0.0740), 0.0196, places=4)  # Table 2, BC WeChat


class RankingTest(unittest.TestCase):
    def test_one_user_by_hand(self):
        # Hits at ranks 2 and 4 of 4; 3 positives.
        m = cm.user_ranking_metrics(["a", "p1", "b", "p2"], {"p1", "p2", "p3"}, 4)
        dcg = 1 / math.log2(3) + 1 / math.log2(5)
        idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
        self.assertAlmostEqual(m["ndcg"], dcg / idcg)
        self.assertAlmostEqual(m["map"], (1 / 2 + 2 / 4) / 3)
        self.assertAlmostEqual(m["mrr"], 1 / 2)
        self.assertEqual(m["hitrate"], 1.0)
        self.assertAlmostEqual(m["hits_per_k"], 2 / 4)
        # k = 1: no hit; the ideal counts min(k, |T|) = 1.
        m1 = cm.user_ranking_metrics(["a", "p1"], {"p1", "p2", "p3"}, 1)
        self.assertEqual((m1["ndcg"], m1["map"], m1["mrr"], m1["hitrate"]), (0, 0, 0, 0))

    def test_perfect_list_scores_one(self):
        m = cm.user_ranking_metrics(["p1", "p2", "x"], {"p1", "p2"}, 3)
        self.assertAlmostEqual(m["ndcg"], 1.0)
        self.assertAlmostEqual(m["map"], 1.0)

    def test_standard_hitrate_at_least_ndcg(self):
        ranked = {"u1": ["x", "p"], "u2": ["q", "y"], "u3": ["z", "w"]}
        positives = {"u1": {"p"}, "u2": {"q", "r"}, "u3": {"s"}}
        out = cm.ranking_at_k(ranked, positives, [2])
        self.assertGreaterEqual(out["hitrate@2"], out["ndcg@2"])
        self.assertAlmostEqual(out["hitrate@2"], 2 / 3)
        self.assertAlmostEqual(out["h_paper@2"], (1 / 2 + 1 / 2 + 0) / 3)
        self.assertAlmostEqual(out["mrr@2"], (1 / 2 + 1 + 0) / 3)
        # u2: hit at rank 1 of 2 positives -> 1 / (1 + 1/log2 3).
        self.assertAlmostEqual(out["ndcg@2"],
                               (1 / math.log2(3) + 1 / (1 + 1 / math.log2(3))) / 3)

    def test_rerank_is_stable(self):
        self.assertEqual(cm.rerank(["a", "b", "c", "d"], [0.1, 0.9, 0.1, 0.5]),
                         ["b", "d", "a", "c"])


def write(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


class JoinTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = lambda name: os.path.join(self.dir.name, name)  # noqa: E731

    def tearDown(self):
        self.dir.cleanup()

    def test_stage_input_keeps_ids_and_lines_up_predictions(self):
        write(self.path("exp.csv"), [["user_id", "item_id", "v", "finish"],
                                     ["1", "10", "0.5", "1"], ["2", "20", "0.25", "0"]])
        write(self.path("sam.csv"), [["user_id", "item_id", "visits", "v"], ["3", "30", "4", "-1"]])
        rows = cj.write_stage_input(self.path("st.csv"),
                                    ["user_id", "item_id", "v", "finish", "exposed", "yhat_gen"],
                                    [(self.path("exp.csv"),
                                      {"exposed": "1", "yhat_gen": ["0.9", "0.2"]}),
                                     (self.path("sam.csv"), {"exposed": "0", "finish": "0",
                                                             "yhat_gen": ["0.7"]})])
        self.assertEqual(rows, 3)
        self.assertEqual(read(self.path("st.csv")), [
            ["user_id", "item_id", "v", "finish", "exposed", "yhat_gen"],
            ["1", "10", "0.5", "1", "1", "0.9"], ["2", "20", "0.25", "0", "1", "0.2"],
            ["3", "30", "-1", "0", "0", "0.7"]])

    def test_stage_input_errors_name_the_file(self):
        write(self.path("exp.csv"), [["user_id", "finish"], ["1", "1"], ["2", "0"]])
        with self.assertRaisesRegex(cj.JoinError, r"exp.csv: more rows than the 1 values of "
                                                  r"column 'y'"):
            cj.write_stage_input(self.path("o.csv"), ["user_id", "y"],
                                 [(self.path("exp.csv"), {"y": ["1"]})])
        with self.assertRaisesRegex(cj.JoinError, r"exp.csv: 2 rows, but column 'y' has 3 values"):
            cj.write_stage_input(self.path("o.csv"), ["user_id", "y"],
                                 [(self.path("exp.csv"), {"y": ["1", "0", "1"]})])
        with self.assertRaisesRegex(cj.JoinError, r"exp.csv: no column 'item_id'"):
            cj.write_stage_input(self.path("o.csv"), ["item_id"], [(self.path("exp.csv"), {})])

    def test_candidates_join_item_features_in_list_order(self):
        write(self.path("top.csv"), [["user_key", "rank", "item_key", "score"],
                                     ["7", "2", "11", "0.1"], ["7", "1", "12", "0.3"],
                                     ["8", "1", "11", "0.2"]])
        write(self.path("items.csv"), [["item_id", "author_id", "v"], ["11", "1", "0.5"],
                                       ["12", "2", "0.75"]])
        lists = cj.read_lists(self.path("top.csv"))
        self.assertEqual(lists, {"7": ["12", "11"], "8": ["11"]})
        pairs = cj.write_candidates(self.path("cand.csv"), lists, self.path("items.csv"))
        self.assertEqual(pairs, [("7", "12"), ("7", "11"), ("8", "11")])
        self.assertEqual(read(self.path("cand.csv")), [
            ["user_id", "item_id", "author_id", "v"], ["7", "12", "2", "0.75"],
            ["7", "11", "1", "0.5"], ["8", "11", "1", "0.5"]])
        items, scores = cj.group_scores(pairs, ["0.2", "0.6", "0.1"])
        self.assertEqual(items, {"7": ["12", "11"], "8": ["11"]})
        self.assertEqual(cm.rerank(items["7"], scores["7"]), ["11", "12"])
        with self.assertRaisesRegex(cj.JoinError, "3 candidates but 2 scores"):
            cj.group_scores(pairs, ["1", "2"])


if __name__ == "__main__":
    unittest.main()
