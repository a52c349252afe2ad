// Tests of gen_uma2's files (examples/uma2/README.md): byte-identical output for a seed,
// the 1:4:20 mix of SS-ABC(fixed) and the single space of SS-A, tags that agree with each
// other (click, is_*, recalled, exposed), w_sos, the planted popularity/CTR bias of the
// logged spaces, the test day and the corpus, and flag errors that name the flag.
#include "GenCsv.h"
#include "examples/common/Random.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <unistd.h>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace recc::gentest;

int gen(const fs::path &dir, const std::string &extra = "") {
  std::string cmd = std::string(GEN_UMA2) + " --out " + dir.string() +
                    " --users 500 --items 1000 --cates 20 --train-requests 300"
                    " --test-requests 100 --seed 5 " + extra + " 2>/dev/null";
  return runStatus(cmd);
}

class GenUma2Test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("gen_uma2_test_" + std::to_string(::getpid()));
    ASSERT_EQ(gen(dir_), 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static inline fs::path dir_;
};

const char *kFiles[] = {"ss_a.csv", "ss_ab.csv", "ss_abc_random.csv", "ss_abc_fixed.csv",
                        "valid.csv", "test.csv", "corpus.csv"};

TEST_F(GenUma2Test, SameSeedGivesIdenticalFiles) {
  fs::path again = dir_.string() + "_again";
  ASSERT_EQ(gen(again), 0);
  for (const char *f : kFiles) EXPECT_EQ(slurp(dir_ / f), slurp(again / f)) << f;
  fs::remove_all(again);
}

TEST_F(GenUma2Test, TagsAgreeAndIdsFitTheVocabularies) {
  for (const char *f : {"ss_a.csv", "ss_ab.csv", "ss_abc_random.csv", "ss_abc_fixed.csv",
                        "valid.csv", "test.csv"}) {
    Csv c = readCsv(dir_ / f);
    ASSERT_FALSE(c.rows.empty()) << f;
    for (size_t r = 0; r < c.rows.size(); ++r) {
      double pos = c.num(r, "is_pos"), a = c.num(r, "is_a"), b = c.num(r, "is_b");
      double cc = c.num(r, "is_c");
      ASSERT_EQ(pos + a + b + cc, 1) << f << " row " << r;
      ASSERT_EQ(c.num(r, "click"), pos) << f << " row " << r;
      ASSERT_EQ(c.num(r, "recalled"), pos + a + b) << f << " row " << r;
      ASSERT_EQ(c.num(r, "exposed"), pos + a) << f << " row " << r;
      ASSERT_LT(c.num(r, "user_id"), 500);
      ASSERT_LT(c.num(r, "item_id"), 1000);
      ASSERT_LT(c.num(r, "cate_id"), 20);
      for (const std::string &h : split(c.rows[r][c.need("hist")], '|')) ASSERT_LT(std::stoi(h), 1000);
    }
  }
}

/// Rows come in groups of 26: the positive, then its 25 negatives.
void forEachGroup(const Csv &c, const std::function<void(size_t)> &f) {
  ASSERT_EQ(c.rows.size() % 26, 0u);
  for (size_t g = 0; g < c.rows.size(); g += 26) {
    ASSERT_EQ(c.num(g, "is_pos"), 1) << "row " << g;
    f(g);
  }
}

TEST_F(GenUma2Test, FixedStrategyIs1To4To20PerPositive) {
  Csv c = readCsv(dir_ / "ss_abc_fixed.csv");
  forEachGroup(c, [&](size_t g) {
    double n[4] = {};
    for (size_t r = g; r < g + 26; ++r)
      n[0] += c.num(r, "is_pos"), n[1] += c.num(r, "is_a"), n[2] += c.num(r, "is_b"),
          n[3] += c.num(r, "is_c");
    EXPECT_EQ(n[0], 1);
    EXPECT_EQ(n[1], 1);
    EXPECT_EQ(n[2], 4);
    EXPECT_EQ(n[3], 20);
  });
}

TEST_F(GenUma2Test, StrategiesShareThePositivesAndDrawFromTheirSpaces) {
  Csv a = readCsv(dir_ / "ss_a.csv"), ab = readCsv(dir_ / "ss_ab.csv");
  Csv rnd = readCsv(dir_ / "ss_abc_random.csv"), fixed = readCsv(dir_ / "ss_abc_fixed.csv");
  ASSERT_EQ(a.rows.size(), fixed.rows.size());
  ASSERT_EQ(rnd.rows.size(), fixed.rows.size());
  long cInRandom = 0;
  for (size_t r = 0; r < a.rows.size(); r += 26) {
    EXPECT_EQ(a.rows[r], fixed.rows[r]);  // the same positive
    EXPECT_EQ(ab.rows[r], fixed.rows[r]);
    EXPECT_EQ(rnd.rows[r], fixed.rows[r]);
    for (size_t k = r + 1; k < r + 26; ++k) {
      EXPECT_EQ(a.num(k, "is_a"), 1);
      EXPECT_EQ(ab.num(k, "is_a") + ab.num(k, "is_b"), 1);
      cInRandom += rnd.num(k, "is_c") == 1;
    }
  }
  // Uniform draws from 1000 items mostly miss the 100-item recall set.
  EXPECT_GT(double(cInRandom) / (a.rows.size() / 26 * 25), 0.8);
}

TEST_F(GenUma2Test, SosWeightsAreSpaceLevelAndAverageOne) {
  Csv c = readCsv(dir_ / "ss_abc_fixed.csv");
  forEachGroup(c, [&](size_t g) {
    EXPECT_EQ(c.num(g, "w_sos"), 1);
    double total = 0;
    std::map<int, std::set<std::string>> bySpace;
    for (size_t r = g + 1; r < g + 26; ++r) {
      total += c.num(r, "w_sos");
      int space = c.num(r, "is_a") ? 1 : c.num(r, "is_b") ? 2 : 3;
      bySpace[space].insert(c.rows[r][c.need("w_sos")]);
    }
    EXPECT_NEAR(total / 25, 1, 1e-4);
    for (auto &[space, ws] : bySpace) EXPECT_EQ(ws.size(), 1u) << "space " << space;
  });
}

TEST_F(GenUma2Test, LoggedNegativesArePopularAndHighCtr) {
  Csv c = readCsv(dir_ / "ss_abc_fixed.csv");
  double ctr[4] = {}, n[4] = {};
  for (size_t r = 0; r < c.rows.size(); ++r) {
    int s = c.num(r, "is_pos") ? 0 : c.num(r, "is_a") ? 1 : c.num(r, "is_b") ? 2 : 3;
    ctr[s] += c.num(r, "item_ctr"), n[s]++;
  }
  // The policies favour high-CTR items: A (exposed) over B (recalled) over C (the rest).
  EXPECT_GT(ctr[1] / n[1], 1.5 * ctr[3] / n[3]);
  EXPECT_GT(ctr[2] / n[2], 1.2 * ctr[3] / n[3]);
  EXPECT_GT(ctr[1] / n[1], ctr[2] / n[2]);
}

TEST_F(GenUma2Test, TestDayIsClicksAndCorpusIsEveryItem) {
  Csv t = readCsv(dir_ / "test.csv"), corpus = readCsv(dir_ / "corpus.csv");
  for (size_t r = 0; r < t.rows.size(); ++r) EXPECT_EQ(t.num(r, "click"), 1);
  EXPECT_EQ(corpus.header, (std::vector<std::string>{"item_id", "cate_id", "item_ctr"}));
  ASSERT_EQ(corpus.rows.size(), 1000u);
  for (size_t r = 0; r < corpus.rows.size(); ++r) EXPECT_EQ(corpus.num(r, "item_id"), double(r));
}

TEST_F(GenUma2Test, BadFlagsNameTheFlag) {
  fs::path d = dir_.string() + "_bad";
  std::string cmd = std::string(GEN_UMA2) + " --out " + d.string() + " --cates 2 2>&1";
  FILE *p = ::popen(cmd.c_str(), "r");
  std::string out;
  for (char buf[256]; std::fgets(buf, sizeof buf, p);) out += buf;
  int rc = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(out.find("--cates"), std::string::npos) << out;
}

TEST(GumbelTopKTest, DistinctAndFavoursLargeLogits) {
  recc::gen::Rng rng(4);
  std::vector<double> logits = {0, 0, 3, 0, 0, 0};
  int firstIsTwo = 0;
  for (int t = 0; t < 2000; ++t) {
    std::vector<int> k = recc::gen::gumbelTopK(logits, 3, rng);
    ASSERT_EQ(k.size(), 3u);
    EXPECT_EQ(std::set<int>(k.begin(), k.end()).size(), 3u);
    firstIsTwo += k[0] == 2;
  }
  // P(first = 2) = e^3 / (e^3 + 5) = 0.80.
  EXPECT_NEAR(firstIsTwo / 2000.0, 0.80, 0.03);
}

} // namespace
