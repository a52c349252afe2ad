// Tests of headerless files read by the model's column list (plan.columns,
// `columns [...]`, Criteo's layout): fields map to columns by position, every
// line is data, the delimiter is the list's or chosen by extension / the first
// line, and a row with the wrong number of fields names file:line and both
// counts.
#include "runtime/CsvReader.h"
#include "runtime/IdLookup.h"

#include "TestUtil.h"

namespace recc::rt {
namespace {

using test::errorOf;
using K = FeatureSpec::Kind;

class CsvColumnsTest : public ::testing::Test {
protected:
  void SetUp() override {
    FeatureSpec i1{"I1", "I1", K::Dense, 0, 0, "", "none"};
    i1.hasNa = true;
    FeatureSpec c1{"C1", "C1", K::Categorical, 100, 0, "c1_emb", "none"};
    c1.lookup = "hash";
    c1.hasNa = true;
    Plan.features = {c1, i1};  // not in file order
    Plan.labels = {{"click", "click"}};
    Plan.columns = {"click", "I1", "I2", "C1"};  // I2: in the file, read by nothing
    Plan.delimiter = "tab";
  }

  DataSet read(const std::string& body, const std::string& name = "day_0",
               ReadOptions options = {}) {
    test::writeText(Dir.file(name), body);
    return readDataFile(Dir.file(name), Plan, options);
  }
  std::string error(const std::string& body, const std::string& name = "day_0") {
    std::string msg = errorOf([&] { read(body, name); });
    size_t at = msg.find(name);
    return at == std::string::npos ? msg : msg.substr(at);
  }
  static std::vector<float> dense(const DataSet& d, int f) {
    return {d.dense(f).begin(), d.dense(f).end()};
  }
  static std::vector<int64_t> ids(const DataSet& d, int f) {
    return {d.ids(f).begin(), d.ids(f).end()};
  }

  test::TempDir Dir;
  ModelPlan Plan;
};

TEST_F(CsvColumnsTest, MapsFieldsByPositionAndReadsEveryLine) {
  DataSet d = read("1\t5\t-3\t68fd1e64\n"
                   "0\t\t7\t\n"
                   "1\t-2\t\t0aaf3e2b\n");
  ASSERT_EQ(d.rows(), 3);
  EXPECT_EQ(std::vector<float>(d.label(0).begin(), d.label(0).end()),
            (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(dense(d, 1), (std::vector<float>{5, 0, -2}));  // empty: na = 0
  EXPECT_EQ(ids(d, 0), (std::vector<int64_t>{hashBucket("68fd1e64", 100), 0,
                                             hashBucket("0aaf3e2b", 100)}));
}

TEST_F(CsvColumnsTest, AHeaderLookingFirstLineIsData) {
  // With a column list there is no header: its first line is a row, here one
  // whose label is not a number.
  EXPECT_EQ(error("click\tI1\tI2\tC1\n1\t5\t3\tab\n"),
            "day_0:1:1: non-numeric value 'click' in column 'click'");
}

TEST_F(CsvColumnsTest, WrongFieldCountNamesLineAndCounts) {
  EXPECT_EQ(error("1\t5\t3\tab\n0\t5\t3\n"),
            "day_0:2: expected 4 fields as in the model's 'columns' list, found 3");
  EXPECT_EQ(error("1\t5\t3\tab\n\n0\t5\t3\tab\tcd\n"),  // blank lines keep their numbers
            "day_0:3: expected 4 fields as in the model's 'columns' list, found 5");
  // A comma file read with the list's tab delimiter is one field per line.
  EXPECT_EQ(error("1,5,3,ab\n"),
            "day_0:1: expected 4 fields as in the model's 'columns' list, found 1");
}

TEST_F(CsvColumnsTest, DelimiterFromTheListElseExtensionElseFirstLine) {
  Plan.delimiter = "comma";
  EXPECT_EQ(read("1,5,3,ab\n").rows(), 1);
  Plan.delimiter = "";
  EXPECT_EQ(read("1,5,3,ab\n", "data.csv").rows(), 1);
  EXPECT_EQ(read("1\t5\t3\tab\n", "data.tsv").rows(), 1);
  EXPECT_EQ(read("1\t5\t3\tab\n0\t\t\t\n", "train.txt").rows(), 2);  // more tabs than commas
  EXPECT_EQ(read("1,5,3,ab\n", "train.txt").rows(), 1);
}

TEST_F(CsvColumnsTest, ErrorsNameTheListedColumn) {
  EXPECT_EQ(error("1\tx\t3\tab\n"), "day_0:1:2: non-numeric value 'x' in column 'I1'");
  EXPECT_EQ(error("2\t1\t3\tab\n"), "day_0:1:1: label 'click' must be in [0, 1], got 2");
  EXPECT_EQ(error(""), "day_0: empty file (no data rows)");
  EXPECT_EQ(error("\n\n"), "day_0: empty file (no data rows)");
  Plan.features[1].column = "I9";  // a plan whose list lacks a column (the compiler refuses it)
  EXPECT_EQ(error("1\t5\t3\tab\n"),
            "day_0: missing column 'I9' (model feature 'I1'); the model's 'columns' list "
            "has: click, I1, I2, C1");
}

TEST_F(CsvColumnsTest, KeepsListedColumnsByName) {
  ReadOptions options;
  options.keep = {"I2"};
  DataSet d = read("1\t5\t-3\tab\n0\t1\t\tcd\n", "day_0", options);
  std::span<const std::string> kept = d.kept("I2");
  EXPECT_EQ(std::vector<std::string>(kept.begin(), kept.end()),
            (std::vector<std::string>{"-3", ""}));
}

TEST_F(CsvColumnsTest, PlanJsonKeepsTheListAndRefusesBadDelimiters) {
  ModelPlan back = planFromJson(toJson(Plan));
  EXPECT_EQ(back.columns, Plan.columns);
  EXPECT_EQ(back.delimiter, "tab");
  EXPECT_TRUE(planFromJson(toJson(test::smallPlan())).columns.empty());
  std::string json = toJson(Plan);
  json.replace(json.find("\"tab\""), 5, "\"pipe\"");
  EXPECT_EQ(errorOf([&] { planFromJson(json); }),
            "model plan: field 'delimiter': expected tab, comma or nothing, got 'pipe'");
}

} // namespace
} // namespace recc::rt
