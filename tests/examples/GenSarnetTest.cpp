// Smoke tests of gen_sarnet's files (examples/sarnet/README.md): the columns and their
// vocabularies (those of models/sarnet.rec and its baselines), byte-identical output for
// a seed, Table 1's tiny scenario #18, the fairness coefficient's rules, a test file
// without fc, the planted behaviour signal, and flag errors that name the flag.
#include "GenCsv.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace recc::gentest;

const std::vector<std::string> kTrainColumns = {
    "scenario", "scn_id",   "scn_type", "scn_time", "user_id",  "country",    "item_id",
    "category", "dest",     "item_score", "seq_item", "seq_cat", "seq_dest",  "seq_scn",
    "seq_type", "seq_time", "user_x_cat", "promoted", "fc",      "click"};

// Vocabulary of each id column (lists: of each element).
const std::map<std::string, long> kVocab = {
    {"scenario", 20},     {"scn_id", 400},      {"scn_type", 16},    {"scn_time", 16},
    {"user_id", 1000000}, {"country", 200},     {"item_id", 1000000}, {"category", 5000},
    {"dest", 2000},       {"seq_item", 1000000}, {"seq_cat", 5000},  {"seq_dest", 2000},
    {"seq_scn", 400},     {"seq_type", 16},     {"seq_time", 16},    {"user_x_cat", 1000000},
    {"promoted", 2},      {"click", 2}};

class GenSarnetTest : public testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("gen_sarnet_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    ASSERT_EQ(run(kRows, kTestRows, 1, "a"), 0);
    train_ = new Csv(readCsv(*dir_ / "a_train.csv"));
    test_ = new Csv(readCsv(*dir_ / "a_test.csv"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_, delete train_, delete test_;
  }
  /// Runs gen_sarnet into DIR/NAME_train.csv and DIR/NAME_test.csv; returns its status.
  static int run(long rows, long testRows, int seed, const std::string &name,
                 const std::string &extra = "") {
    std::string cmd = std::string(GEN_SARNET) + " --train " + (*dir_ / (name + "_train.csv")).string() +
                      " --test " + (*dir_ / (name + "_test.csv")).string() + " --rows " +
                      std::to_string(rows) + " --test-rows " + std::to_string(testRows) +
                      " --seed " + std::to_string(seed) + " " + extra + " 2>" +
                      (*dir_ / (name + ".err")).string();
    return runStatus(cmd);
  }
  static constexpr long kRows = 40000, kTestRows = 10000;
  static fs::path *dir_;
  static Csv *train_, *test_;
};
fs::path *GenSarnetTest::dir_;
Csv *GenSarnetTest::train_, *GenSarnetTest::test_;

TEST_F(GenSarnetTest, ColumnsAndVocabularies) {
  EXPECT_EQ(train_->header, kTrainColumns);
  std::vector<std::string> testColumns = kTrainColumns;
  testColumns.erase(testColumns.begin() + 18);  // fc
  EXPECT_EQ(test_->header, testColumns);
  ASSERT_EQ(train_->rows.size(), size_t(kRows));
  ASSERT_EQ(test_->rows.size(), size_t(kTestRows));
  for (const Csv *csv : {train_, test_})
    for (const auto &row : csv->rows) {
      ASSERT_EQ(row.size(), csv->header.size());
      size_t seqLen = std::string::npos;
      for (const auto &[name, vocab] : kVocab) {
        const std::string &field = row[csv->col(name)];
        bool list = name.starts_with("seq_");
        std::vector<std::string> ids = list && field.empty() ? std::vector<std::string>{}
                                       : list                ? split(field, '|')
                                                             : std::vector<std::string>{field};
        for (const std::string &id : ids) {
          char *end;
          long v = std::strtol(id.c_str(), &end, 10);
          ASSERT_TRUE(!id.empty() && *end == 0 && v >= 0 && v < vocab)
              << name << " = '" << field << "'";
        }
        if (list) {
          ASSERT_LE(ids.size(), 50u) << name;
          if (seqLen != std::string::npos) ASSERT_EQ(ids.size(), seqLen) << name;
          seqLen = ids.size();
        }
      }
      EXPECT_EQ(row[csv->col("scn_time")], "0");
      double score = std::stod(row[csv->col("item_score")]);
      ASSERT_TRUE(score > 0 && score < 1) << score;
    }
}

TEST_F(GenSarnetTest, SameSeedSameBytesOtherSeedOtherBytes) {
  ASSERT_EQ(run(kRows, kTestRows, 1, "b"), 0);
  EXPECT_TRUE(slurp(*dir_ / "a_train.csv") == slurp(*dir_ / "b_train.csv"));
  EXPECT_TRUE(slurp(*dir_ / "a_test.csv") == slurp(*dir_ / "b_test.csv"));
  ASSERT_EQ(run(2000, 500, 6, "c"), 0);
  std::string a = slurp(*dir_ / "a_train.csv"), c = slurp(*dir_ / "c_train.csv");
  EXPECT_NE(a.substr(0, c.size()), c);
}

TEST_F(GenSarnetTest, ScenarioSharesFollowTableOne) {
  std::vector<long> n(20);
  for (const auto &row : train_->rows) n[std::stoi(row[train_->col("scenario")])]++;
  // #18 is 0.15% of the data: 60 of 40000 rows, binomial sd 7.7 rows (0.019%); allow
  // 4.5 sd. #8 is the largest at 12.17% (sd 0.16%).
  EXPECT_NEAR(double(n[17]) / kRows, 0.0015, 0.00087);
  EXPECT_NEAR(double(n[7]) / kRows, 0.1217, 0.0075);
}

TEST_F(GenSarnetTest, FairnessCoefficientRules) {
  std::map<std::pair<std::string, std::string>, std::vector<double>> byPair;
  const int item = train_->col("item_id"), scn = train_->col("scenario"), fc = train_->col("fc");
  for (const auto &row : train_->rows)
    byPair[{row[item], row[scn]}].push_back(std::stod(row[fc]));
  long low = 0, high = 0;
  for (const auto &[pair, values] : byPair) {
    for (double v : values) {
      ASSERT_GE(v, 0.1);
      ASSERT_LE(v, 10.0);
      ASSERT_EQ(v, values[0]) << "fc differs within item " << pair.first << ", scenario "
                              << pair.second;
    }
    if (values.size() < 10) {
      ASSERT_EQ(values[0], 1.0) << "PV " << values.size() << " < 10";
      low++;
    } else {
      high++;
    }
  }
  EXPECT_GT(low, 0);
  EXPECT_GT(high, 0);
  // Promoted items are shown to users who did not ask for them: their fc is lower.
  double sum[2] = {}, rows[2] = {};
  for (const auto &row : train_->rows) {
    int p = std::stoi(row[train_->col("promoted")]);
    sum[p] += std::stod(row[fc]), rows[p]++;
  }
  EXPECT_LT(sum[1] / rows[1], 0.85 * sum[0] / rows[0]);
}

TEST_F(GenSarnetTest, BehavioursMatchingTheTargetRaiseCtr) {
  // On the test file (true-preference labels): rows with a behaviour of the target's
  // category or destination click more than rows with none.
  const Csv &t = *test_;
  double clicks[2] = {}, rows[2] = {};
  for (const auto &row : t.rows) {
    auto cats = split(row[t.col("seq_cat")], '|'), dests = split(row[t.col("seq_dest")], '|');
    bool match = false;
    for (size_t k = 0; k < cats.size() && !row[t.col("seq_cat")].empty(); ++k)
      match |= cats[k] == row[t.col("category")] || dests[k] == row[t.col("dest")];
    clicks[match] += std::stoi(row[t.col("click")]), rows[match]++;
  }
  ASSERT_GT(rows[0], 1000);
  ASSERT_GT(rows[1], 1000);
  EXPECT_GT(clicks[1] / rows[1], 1.4 * clicks[0] / rows[0]);
}

TEST_F(GenSarnetTest, BadFlagsNameTheFlag) {
  auto err = [&](const std::string &name) { return slurp(*dir_ / (name + ".err")); };
  EXPECT_EQ(run(0, 10, 1, "zero"), 2);
  EXPECT_NE(err("zero").find("'--rows'"), std::string::npos) << err("zero");
  EXPECT_EQ(run(10, 10, 1, "bad", "--seed x"), 2);
  EXPECT_NE(err("bad").find("'--seed' expects a number"), std::string::npos) << err("bad");
  EXPECT_EQ(run(10, 10, 1, "unknown", "--users 5"), 2);
  EXPECT_NE(err("unknown").find("unknown flag '--users'"), std::string::npos);
  // An output that cannot be opened fails before any work and leaves no temporary file.
  fs::path out = *dir_ / "unopened_train.csv";
  std::string bad = std::string(GEN_SARNET) + " --train " + out.string() +
                    " --test " + (*dir_ / "no_such_dir" / "t.csv").string() + " 2>" +
                    (*dir_ / "unopened.err").string();
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 1);
  EXPECT_NE(err("unopened").find("cannot open"), std::string::npos) << err("unopened");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
  std::string cmd = std::string(GEN_SARNET) + " --test x.csv 2>" + (*dir_ / "missing.err").string();
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
  EXPECT_NE(err("missing").find("'--train FILE' is required"), std::string::npos);
}

} // namespace
