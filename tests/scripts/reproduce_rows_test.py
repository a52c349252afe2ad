"""Tests of the reproductions' row builders and options: DSSM's rows on
gen_uma2's data (scripts/lib/dssm_rows.py), the UMA² variant of dssm.rec, and
DAMCAR's choice of ranker (--rank: which model, which result file, no paper
numbers without DeepFM), checked against values worked out by hand."""

import argparse
import contextlib
import csv
import io
import os
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import dssm_rows  # noqa: E402
import reproduce_damcar  # noqa: E402
import reproduce_uma2  # noqa: E402

WORLD = {"users": 5, "items": 10, "cates": 2}
HEADER = "user_id,gender,age,hist,item_id,click,is_pos\n"


def rows(text):
    return list(csv.DictReader(io.StringIO(HEADER + text)))


class DssmRowsTest(unittest.TestCase):
    def test_query_words_user_gender_age_then_history(self):
        # items 0..9, users at 10.., genders at 15.., ages at 18..
        row = rows("3,1,4,7|2|9,5,1,1\n")[0]
        self.assertEqual(dssm_rows.query_vocab(WORLD), 10 + 5 + 3 + 10)
        self.assertEqual(dssm_rows.query_words(row, WORLD), "13|16|22|7|2|9")

    def test_query_keeps_the_most_recent_clicks_up_to_the_length(self):
        row = rows("0,0,0," + "|".join(str(i % 10) for i in range(30)) + ",1,1,1\n")[0]
        words = dssm_rows.query_words(row, WORLD).split("|")
        self.assertEqual(len(words), dssm_rows.QUERY_LEN)
        self.assertEqual(words[3:6], ["0", "1", "2"])

    def test_empty_history_leaves_the_profile_words(self):
        self.assertEqual(dssm_rows.query_words(rows("2,0,9,,4,1,1\n")[0], WORLD), "12|15|27")

    def test_each_click_gives_one_row_per_four_negatives(self):
        # Click 1 (user 1, item 5) has 9 negatives: two groups of 4, the 9th unused.
        # Click 2 (user 2, item 6) has 3: too few for a group, no row.
        text = "1,0,0,,5,1,1\n" + "".join(f"1,0,0,,{i},0,0\n" for i in range(9)) + \
               "2,0,0,,6,1,1\n" + "".join(f"2,0,0,,{i},0,0\n" for i in range(3))
        out = list(dssm_rows.training_rows(rows(text), WORLD))
        self.assertEqual(out, [["1", "5", "11|15|18", "5|0|1|2|3", "1"],
                               ["1", "5", "11|15|18", "5|4|5|6|7", "1"]])

    def test_negative_before_any_positive_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "before any positive"):
            list(dssm_rows.training_rows(rows("1,0,0,,5,0,0\n"), WORLD))

    def test_single_rows_keep_the_item_and_click(self):
        out = list(dssm_rows.single_rows(rows("4,1,2,3,8,0,0\n"), WORLD))
        self.assertEqual(out, [["4", "8", "14|16|20|3", "8", "0"]])


class DssmVariantTest(unittest.TestCase):
    def test_variant_sizes_the_vocabularies_and_adds_retrieval(self):
        with tempfile.TemporaryDirectory() as d:
            path = reproduce_uma2.dssm_variant(os.path.join(ROOT, "models", "dssm.rec"),
                                               os.path.join(d, "dssm.rec"))
            with open(path) as f:
                text = f.read()
        vocab = dssm_rows.query_vocab(reproduce_uma2.WORLD)
        items = reproduce_uma2.WORLD["items"]
        self.assertNotIn("500000", text)
        self.assertIn(f"input query : ids({vocab}, len = 20)", text)
        self.assertIn(f"table doc_emb[{items}, 64]", text)
        self.assertIn(f"input item_id : id({items})", text)
        self.assertIn("output p, top_items", text)


class DamcarRankTest(unittest.TestCase):
    def args(self, rank):
        ap = argparse.ArgumentParser()
        reproduce_damcar.options(ap)
        return ap.parse_args(["--rank", rank])

    def test_rank_names_the_result_file(self):
        self.assertEqual(reproduce_damcar.config(self.args("deepfm"))["json_name"], "damcar")
        self.assertEqual(reproduce_damcar.config(self.args("dcn"))["json_name"], "damcar_dcn")
        self.assertEqual(reproduce_damcar.config(self.args("dcn"))["rank"], "dcn")

    def test_unknown_rank_is_refused(self):
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            self.args("fm")

    def test_paper_numbers_only_with_deepfm(self):
        run = {m: 0.1 for m in reproduce_damcar.METRICS}
        run.update(epochs=3)
        with_paper = reproduce_damcar.aggregate("bc", "BC", [run], "deepfm")
        without = reproduce_damcar.aggregate("bc", "BC", [run], "dcn")
        self.assertAlmostEqual(with_paper["paper"]["recall@100"], 0.0740)
        self.assertNotIn("paper", without)
        self.assertEqual(without["epochs"], [3])

    def test_claims_name_the_ranker_without_deepfm(self):
        run = {m: 0.1 for m in reproduce_damcar.METRICS}
        run.update(epochs=1)
        for rank, marked in (("deepfm", False), ("dcn", True)):
            results = {key: reproduce_damcar.aggregate(key, label, [run], rank)
                       for key, label, *_ in reproduce_damcar.ROWS}
            items = reproduce_damcar.check_claims(results, rank).items
            self.assertEqual(len(items), 12)
            self.assertEqual({c["claim"].startswith("[Rank = DCN;") for c in items}, {marked})


if __name__ == "__main__":
    unittest.main()
