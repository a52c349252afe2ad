// Smoke tests of gen_zeus's files (examples/zeus/README.md): the columns and their
// vocabularies (those of models/zeus.rec and zeus_baselines.rec), the shapes of id lists
// and word bags, row counts, the grouped pre-training file against the pointwise one,
// byte-identical output for a seed, Table 1's small scenario 2, the planted intent as
// the columns show it, and flag errors that name the flag.
#include "GenCsv.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace recc::gentest;

const std::vector<std::string> kContext = {"sq_id", "sq_ws", "sq_cat", "sc_id", "sc_ws", "sc_cat", "sc_brand"};
const std::vector<std::string> kProfile = {"age", "gender", "q_ctr", "q_clicks", "power", "match"};

std::vector<std::string> columns(std::vector<std::string> head, std::vector<std::string> tail) {
  std::vector<std::string> all = std::move(head);
  all.insert(all.end(), kContext.begin(), kContext.end());
  all.insert(all.end(), tail.begin(), tail.end());
  return all;
}
const std::vector<std::string> kClickColumns = [] {
  auto c = columns({"scenario", "tq_id", "tq_ws", "tq_cat"}, {"pos_id", "pos_cat", "neg_id", "neg_cat"});
  c.insert(c.end(), kProfile.begin(), kProfile.end());
  c.push_back("click");
  return c;
}();
const std::vector<std::string> kPretrainColumns = [] {
  auto c = columns({"scenario", "tq_id", "tq_ws", "tq_cat"}, kProfile);
  c.push_back("searched");
  return c;
}();

// Vocabulary of each id column (lists and bags: of each element).
const std::map<std::string, long> kVocab = {
    {"scenario", 10},        {"tq_id", 100000000}, {"tq_ws", 1000000}, {"tq_cat", 50000},
    {"sq_id", 100000000},    {"sq_ws", 1000000},   {"sq_cat", 50000},  {"sc_id", 100000000},
    {"sc_ws", 1000000},      {"sc_cat", 50000},    {"sc_brand", 50000}, {"pos_id", 100000000},
    {"pos_cat", 50000},      {"neg_id", 100000000}, {"neg_cat", 50000}, {"age", 120},
    {"gender", 3}};

long parseId(const std::string &s, long vocab, const std::string &column) {
  char *end;
  long v = std::strtol(s.c_str(), &end, 10);
  EXPECT_TRUE(!s.empty() && *end == 0 && v >= 0 && v < vocab) << column << ": '" << s << "'";
  return v;
}

std::vector<std::string> elements(const std::string &field) {
  return field.empty() ? std::vector<std::string>{} : split(field, '|');
}

class GenZeusTest : public testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("gen_zeus_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    ASSERT_EQ(run("a", 1), 0);
    for (const char *f : {"pretrain", "pretrain_groups", "train", "train_s1", "train_s2", "train_s3",
                          "test_s1", "test_s2", "test_s3"})
      (*files_)[f] = readCsv(*dir_ / "a" / (std::string(f) + ".csv"));
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }

  /// Runs gen_zeus into DIR/NAME; returns its status.
  static int run(const std::string &name, int seed, const std::string &extra = "") {
    return runStatus(std::string(GEN_ZEUS) + " --out " + (*dir_ / name).string() +
                     " --users 3000 --queries 8000 --products 8000 --searches " + std::to_string(kSearches) +
                     " --clicks " + std::to_string(kClicks) + " --test-rows " + std::to_string(kTestRows) +
                     " --seed " + std::to_string(seed) + " " + extra + " 2>" + (*dir_ / (name + ".err")).string());
  }
  static const Csv &file(const std::string &name) { return files_->at(name); }

  static constexpr long kSearches = 600, kClicks = 6000, kTestRows = 400;
  static fs::path *dir_;
  static std::map<std::string, Csv> *files_;
};
fs::path *GenZeusTest::dir_;
std::map<std::string, Csv> *GenZeusTest::files_ = new std::map<std::string, Csv>;

TEST_F(GenZeusTest, ColumnsAndRowCounts) {
  EXPECT_EQ(file("pretrain").header, kPretrainColumns);
  EXPECT_EQ(file("pretrain_groups").header, kPretrainColumns);
  EXPECT_EQ(file("pretrain").rows.size(), size_t(10 * kSearches));
  EXPECT_EQ(file("pretrain_groups").rows.size(), size_t(kSearches));
  EXPECT_EQ(file("train").rows.size(), size_t(kClicks));
  size_t perScenario = 0;
  for (int s = 1; s <= 3; ++s) {
    const Csv &train = file("train_s" + std::to_string(s)), &test = file("test_s" + std::to_string(s));
    EXPECT_EQ(train.header, kClickColumns);
    EXPECT_EQ(test.header, kClickColumns);
    EXPECT_EQ(test.rows.size(), size_t(kTestRows));
    perScenario += train.rows.size();
    for (const Csv *csv : {&train, &test})
      for (const auto &row : csv->rows) ASSERT_EQ(row[0], std::to_string(s));
  }
  EXPECT_EQ(perScenario, size_t(kClicks));
}

TEST_F(GenZeusTest, IdsListsAndBagsFitTheModels) {
  for (const auto &[name, csv] : *files_) {
    bool grouped = name == "pretrain_groups";
    for (const auto &row : csv.rows) {
      ASSERT_EQ(row.size(), csv.header.size()) << name;
      for (const auto &[column, vocab] : kVocab) {
        int k = csv.col(column);
        if (k < 0) continue;
        bool bags = column.ends_with("_ws") && (column != "tq_ws" || grouped);
        std::vector<std::string> elems = column == "tq_ws" && !grouped ? std::vector<std::string>{}
                                                                         : elements(row[k]);
        if (column == "tq_ws" && !grouped) {   // one bag of up to 8 words
          auto words = elements(row[k]);
          ASSERT_TRUE(!words.empty() && words.size() <= 8) << name << " " << column;
          for (const auto &w : words) parseId(w, vocab, column);
          continue;
        }
        bool list = column.starts_with("sq_") || column.starts_with("sc_") || column.starts_with("pos_") ||
                    column.starts_with("neg_") || (grouped && column.starts_with("tq_"));
        if (!list) { parseId(row[k], vocab, column); continue; }
        ASSERT_LE(elems.size(), 10u) << name << " " << column;
        for (const auto &e : elems) {
          if (!bags) { parseId(e, vocab, column); continue; }
          auto words = split(e, ';');
          ASSERT_TRUE(!words.empty() && words.size() <= 8) << name << " " << column << ": '" << e << "'";
          for (const auto &w : words) parseId(w, vocab, column);
        }
      }
      // The fields of one sequence have one element per behaviour.
      for (auto group : {std::vector<std::string>{"sq_id", "sq_ws", "sq_cat"},
                         std::vector<std::string>{"sc_id", "sc_ws", "sc_cat", "sc_brand"}})
        for (const auto &c : group)
          ASSERT_EQ(elements(row[csv.col(c)]).size(), elements(row[csv.col(group[0])]).size()) << c;
      if (grouped)
        for (const char *c : {"tq_id", "tq_ws", "tq_cat"}) ASSERT_EQ(elements(row[csv.col(c)]).size(), 10u);
    }
  }
}

TEST_F(GenZeusTest, GroupsAreThePointwiseRowsSearchedFirst) {
  const Csv &rows = file("pretrain"), &groups = file("pretrain_groups");
  for (size_t g = 0; g < groups.rows.size(); ++g) {
    auto ids = elements(groups.rows[g][groups.col("tq_id")]);
    auto bags = elements(groups.rows[g][groups.col("tq_ws")]);
    std::set<std::string> distinct(ids.begin(), ids.end());
    EXPECT_EQ(distinct.size(), 10u) << "a group's candidates are distinct queries";
    for (int j = 0; j < 10; ++j) {
      const auto &row = rows.rows[10 * g + j];
      ASSERT_EQ(row[rows.col("searched")], j == 0 ? "1" : "0");
      ASSERT_EQ(row[rows.col("tq_id")], ids[j]);
      std::string bag = row[rows.col("tq_ws")];
      for (char &c : bag) c = c == '|' ? ';' : c;
      ASSERT_EQ(bag, bags[j]);
      for (const auto &c : kContext) ASSERT_EQ(row[rows.col(c)], groups.rows[g][groups.col(c)]) << c;
      ASSERT_EQ(row[rows.col("scenario")], "0");
    }
  }
}

TEST_F(GenZeusTest, SameSeedSameBytesOtherSeedOtherBytes) {
  ASSERT_EQ(run("b", 1), 0);
  ASSERT_EQ(run("c", 2), 0);
  for (const char *f : {"pretrain.csv", "train.csv", "test_s2.csv"}) {
    EXPECT_EQ(slurp(*dir_ / "a" / f), slurp(*dir_ / "b" / f)) << f;
    EXPECT_NE(slurp(*dir_ / "a" / f), slurp(*dir_ / "c" / f)) << f;
  }
}

TEST_F(GenZeusTest, ScenarioTwoIsSmallAndClicksMost) {
  // Table 1: scenario 2 is 6% of the click samples with a 36% positive rate.
  double rows[3], ctr[3];
  for (int s = 0; s < 3; ++s) {
    const Csv &csv = file("train_s" + std::to_string(s + 1));
    double clicks = 0;
    for (const auto &row : csv.rows) clicks += row[csv.col("click")] == "1";
    rows[s] = double(csv.rows.size()) / kClicks, ctr[s] = clicks / double(csv.rows.size());
  }
  EXPECT_NEAR(rows[1], 0.0615, 0.02);
  EXPECT_GT(rows[0], rows[2]);
  EXPECT_GT(ctr[1], 0.25);
  EXPECT_GT(ctr[1], ctr[0]);
  EXPECT_GT(ctr[1], ctr[2]);
}

/// The share of rows whose target query's category is among the query sequence's.
double categoryInHistory(const Csv &csv, const std::string &label, bool positive) {
  double hit = 0, n = 0;
  for (const auto &row : csv.rows) {
    if ((row[csv.col(label)] == "1") != positive) continue;
    auto cats = elements(row[csv.col("sq_cat")]);
    hit += std::find(cats.begin(), cats.end(), row[csv.col("tq_cat")]) != cats.end();
    ++n;
  }
  return hit / n;
}

TEST_F(GenZeusTest, OneIntentDrivesSearchesAndClicks) {
  // The latent intent is no column; the sequences show it: searched queries and clicked
  // recommendations come from the categories the user searched before far more often
  // than exposed-unclicked ones.
  double searched = categoryInHistory(file("pretrain"), "searched", true);
  double skipped = categoryInHistory(file("pretrain"), "searched", false);
  EXPECT_GT(searched, 1.5 * skipped) << searched << " vs " << skipped;
  double clicked = categoryInHistory(file("train"), "click", true);
  double unclicked = categoryInHistory(file("train"), "click", false);
  EXPECT_GT(clicked, 1.2 * unclicked) << clicked << " vs " << unclicked;
}

TEST_F(GenZeusTest, BadFlagsNameTheFlag) {
  EXPECT_EQ(run("bad1", 1, "--clicks 0"), 2);
  EXPECT_NE(slurp(*dir_ / "bad1.err").find("'--clicks'"), std::string::npos);
  EXPECT_EQ(runStatus(std::string(GEN_ZEUS) + " --seed 1 2>" + (*dir_ / "bad2.err").string()), 2);
  EXPECT_NE(slurp(*dir_ / "bad2.err").find("--out"), std::string::npos);
  EXPECT_EQ(run("bad3", 1, "--rows 5"), 2);
  EXPECT_NE(slurp(*dir_ / "bad3.err").find("'--rows'"), std::string::npos);
}

} // namespace
