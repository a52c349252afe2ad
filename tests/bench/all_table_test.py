"""The pure logic of bench/'s scripts on canned results (no benchmark runs): side_by_side.py's
summaries, run_all.py's read_rate parsing and table, torch_common.py's core type choice.
Standard library only; a failing check raises AssertionError."""

import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import all_table  # noqa: E402
import run_all  # noqa: E402
import side_by_side  # noqa: E402
import torch_common  # noqa: E402


def recc_file(train, infer, rss, compile_s=2.0):
    return {"model": "m", "results": [{"backend": "mlir", "train_samples_per_second": train,
                                       "infer_samples_per_second": infer, "peak_rss_mb": rss,
                                       "compile_seconds": compile_s,
                                       "infer_compile_seconds": 0.5}]}


def torch_file(train, infer, rss, sgemm, load=0.0):
    return {"batch": 1000, "threads": 2, "train_samples_per_s": train, "infer_samples_per_s": infer,
            "peak_rss_mib": rss, "sgemm_gflops": sgemm, "dense_mflop_per_sample_forward": 2.0,
            "other_load_train": load, "other_load_infer": 0.0, "other_load_sgemm": 0.0,
            "blas": {"openblas": {"core": "Haswell"},
                     "coretype_choice": {"chosen": "Haswell", "probes": [
                         {"coretype": "Haswell", "core": "Haswell", "gflops": 190.0, "ok": True}]}}}


# Three repeats; repeat 2 ran while the machine was slower for both sides.
RECC = [recc_file(10000, 40000, 500), recc_file(6000, 30000, 510), recc_file(11000, 42000, 505)]
PEER = [torch_file(5000, 20000, 1000, 200), torch_file(2000, 10000, 1000, 100, load=0.3),
        torch_file(5000, 21000, 1010, 220)]


class SideBySide(unittest.TestCase):
    def test_medians_ranges_and_per_repeat_ratios(self):
        s = side_by_side.summarize_models(RECC, PEER, train_target=2.5, infer_target=1.2)
        tr = s["train"]
        self.assertEqual(tr["recc"]["median"], 10000)
        self.assertEqual((tr["recc"]["min"], tr["recc"]["max"]), (6000, 11000))
        # per repeat: 2.0, 3.0, 2.2 -> median 2.2 (the ratio of the medians would be 2.0)
        self.assertAlmostEqual(tr["ratio"]["median"], 2.2)
        self.assertAlmostEqual(tr["ratio"]["max"], 3.0)
        # recc's training GFLOP/s over the same repeat's SGEMM: 3 x 2 MFLOP x 10000 / 200 = 0.30
        self.assertAlmostEqual(tr["recc_sgemm_fraction"]["values"][0], 0.30)
        self.assertAlmostEqual(s["infer"]["recc_sgemm_fraction"]["values"][1], 0.6)
        self.assertEqual(s["infer"]["compile_s"]["median"], 0.5)
        self.assertAlmostEqual(s["rss"]["ratio"]["median"], 0.5)
        self.assertEqual(s["other_load"]["max"], 0.3)
        self.assertEqual((s["train"]["target"], s["infer"]["target"]), (2.5, 1.2))
        self.assertEqual(s["coretype_chosen"], "Haswell")

    def test_without_inference_and_with_a_failed_bench(self):
        recc = copy.deepcopy(RECC)
        for f in recc:
            del f["results"][0]["infer_samples_per_second"]
        self.assertIsNone(side_by_side.summarize_models(recc, PEER)["infer"])
        recc[1]["results"][0] = {"backend": "mlir", "error": "out of memory"}
        with self.assertRaisesRegex(ValueError, "out of memory"):
            side_by_side.summarize_models(recc, PEER)

    def test_retrieval_rates_are_users_per_second(self):
        recc = [{"users": 1000, "items": 5000, "dim": 64, "k": 10, "sgemm_gflops": 150,
                 "openblas": "OpenBLAS", "topk": {"openblas": {"median_seconds": 0.5, "gflops": 60}},
                 "gemm_only": {"openblas": {"gflops": 90}}}]
        peer = [{"median_seconds": 2.0, "gflops": 20, "sgemm_gflops": 200, "peak_rss_mib": 300,
                 "other_load": 0.01, "threads": 2, "blas": {}}]
        s = side_by_side.summarize_retrieval(recc, peer, target=2)
        self.assertEqual(s["infer"]["recc"]["median"], 2000)
        self.assertEqual(s["infer"]["peer"]["median"], 500)
        self.assertEqual(s["infer"]["ratio"]["median"], 4.0)
        self.assertAlmostEqual(s["infer"]["recc_sgemm_fraction"]["median"], 0.3)
        self.assertIsNone(s["train"])


READ_RATE_OUTPUT = """\
file                         format   text MB      rows   inflate     parse    chunks
d.csv                         plain      48.9    500000   7273 MB/s    104 MB/s    120 MB/s
d.csv.zst                      zstd      48.9    500000    707 MB/s     91 MB/s    101 MB/s
(1 thread; MB/s of decompressed text, best of 3)
"""


def results(share=0.0, compile_s=2.0, error=None):
    summary = side_by_side.summarize_models(RECC, PEER, 2.5, 1.2)
    summary["title"] = "ESM²"
    run = {"name": "ESM²", "summary": summary, "load_before": [1.0, 1, 1],
           "load_after": [1.5, 1, 1], "other_share": share}
    if error:
        run = {"name": "ZEUS pretrain", "error": error}
    return {"started": "s", "finished": "f", "quick": False, "repeats": 3, "threads": 2,
            "machine": {"cpu": "EPYC", "cores": 2, "avx512": False}, "runs": [run],
            "read_rate": {"command": "read_rate", "rows": 500000, "threads": 1,
                          "files": run_all.parse_read_rate(READ_RATE_OUTPUT)},
            "compile": [{"file": "models/esm2.rec", "model": "esm2", "frontend_s": 0.05,
                         "jit_s": compile_s, "total_s": compile_s + 0.05},
                        {"file": "models/x.rec", "model": "x", "frontend_s": 0.02,
                         "error": "no training step"}],
            "load": {"reader": {"load_before": [1, 1, 1], "load_after": [1, 1, 1],
                                "other_share": 0.01}}}


class Table(unittest.TestCase):
    def test_read_rate_rows(self):
        rows = run_all.parse_read_rate(READ_RATE_OUTPUT)
        self.assertEqual([r["format"] for r in rows], ["plain", "zstd"])
        self.assertEqual((rows[0]["parse"], rows[0]["chunks"], rows[1]["rows"]), (104, 120, 500000))

    def test_quiet_run(self):
        r = results()
        text = all_table.markdown(r)
        self.assertIn("| ESM² | training, samples/s | 10,000 (6,000–11,000) | 5,000 (2,000–5,000) "
                      "| 2.20× (2.00×–3.00×) (≥ 2.5) | 30% (30%–36%) | 14% (12%–15%) | 0.50× (0.50×–0.51×) |",
                      text)
        self.assertIn("(same process)", text)
        self.assertIn("| plain | 48.9 | 7,273 | 104 | 120 |", text)
        self.assertIn("does not train: no training step", text)
        # The peer's own measurement saw 30% other load in repeat 2: the run is flagged.
        self.assertIn("**busy 30%**", text)
        self.assertEqual(all_table.flags(r), ["ESM²: other processes used 30% of the CPU"])

    def test_flags_compile_over_five_seconds_failures_and_busy_sections(self):
        r = results(compile_s=5.5, error="exit status 1, no summary")
        r["load"]["compile"] = {"load_before": [3, 1, 1], "load_after": [4, 1, 1],
                                "other_share": 0.4}
        f = all_table.flags(r)
        self.assertIn("compile: other processes used 40% of the CPU", f)
        self.assertIn("ZEUS pretrain: failed (exit status 1, no summary)", f)
        self.assertIn("models/esm2.rec esm2: .rec → JIT-ready 5.5 s (over 5 s)", f)
        text = all_table.markdown(r)
        self.assertIn("**over 5 s**", text)
        self.assertIn("| ZEUS pretrain | failed: exit status 1, no summary |", text)

    def test_spread(self):
        self.assertEqual(all_table.spread({"median": 2, "min": 2, "max": 2}), "2")
        self.assertEqual(all_table.spread(None), "—")
        self.assertEqual(all_table.pct({"median": 0.5, "min": 0.25, "max": 0.75}), "50% (25%–75%)")


class CoreType(unittest.TestCase):
    def test_candidates(self):
        self.assertEqual(torch_common.coretype_candidates("auto", ["avx2", "avx512f"]),
                         ["SkylakeX", "Haswell", None])
        self.assertEqual(torch_common.coretype_candidates("auto", ["avx2"]), ["Haswell", None])
        self.assertEqual(torch_common.coretype_candidates("auto", []), [None])
        self.assertEqual(torch_common.coretype_candidates("none"), [None])
        self.assertEqual(torch_common.coretype_candidates("Zen"), ["Zen"])

    def test_the_fastest_correct_one_wins(self):
        probes = [{"coretype": "SkylakeX", "gflops": 420.0, "ok": False},
                  {"coretype": "Haswell", "gflops": 220.0, "ok": True},
                  {"coretype": "detect", "gflops": 60.0, "ok": True},
                  {"coretype": "Cooperlake", "ok": False, "error": "probe failed (signal 4)"}]
        self.assertEqual(torch_common.choose_fastest(probes)["coretype"], "Haswell")
        probes[0]["ok"] = True
        self.assertEqual(torch_common.choose_fastest(probes)["coretype"], "SkylakeX")
        self.assertIsNone(torch_common.choose_fastest([probes[3]]))


if __name__ == "__main__":
    unittest.main()
