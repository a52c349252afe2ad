// Tests of the CSV/TSV reader: correct columnar contents, delimiter choice,
// and the exact message of every kind of bad input.
#include "runtime/CsvReader.h"
#include "runtime/DataFiles.h"
#include "runtime/FeatureTransform.h"

#include "TestUtil.h"

#include <cmath>
#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace recc::rt {
namespace {

using test::errorOf;

class CsvReaderTest : public ::testing::Test {
protected:
  /// Writes `body` to `name` in the temp dir and reads it with the small plan.
  DataSet read(const std::string& name, const std::string& body,
               const ReadOptions& options = {}) {
    test::writeText(Dir.file(name), body);
    return readDataFile(Dir.file(name), Plan, options);
  }
  /// The error reading `body` gives, with the temp dir stripped from paths.
  std::string error(const std::string& body, const std::string& name = "data.csv") {
    std::string msg = errorOf([&] { read(name, body); });
    std::string prefix = Dir.path() + "/";
    if (msg.starts_with(prefix))
      msg.erase(0, prefix.size());
    return msg;
  }

  test::TempDir Dir;
  ModelPlan Plan = test::smallPlan();
  const std::string Header = "click,user_id,price,hist,num_3,extra\n";
};

TEST_F(CsvReaderTest, EvalDataNeedsOnlyTheColumnsTheEvalStepReads) {
  // The eval step reads user_id's rows, hist's rows and num_3, not price
  // (as SAR-Net's eval step does not read its training-only fc column).
  using R = BufferSpec::Role;
  Plan.evalStep.buffers = {{R::EmbeddingRows, "user_id", {-1, 4}},
                           {R::EmbeddingRows, "hist", {-1, 3, 4}},
                           {R::Feature, "num_3", {-1, 1}},
                           {R::Output, "p", {-1, 1}}};
  Plan.trainStep.buffers = Plan.evalStep.buffers;
  Plan.trainStep.buffers.push_back({R::Feature, "price", {-1, 1}});
  const std::string body = "click,user_id,hist,num_3\n1,3,1|2,10\n0,4,,20\n";
  DataSet d = read("eval.csv", body, evalReadOptions(Plan));
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.dense(3)[1], 20.0f);
  EXPECT_EQ(d.dense(2)[0], 0.0f);  // price: absent, zeros the step never reads
  // Reading it as training data is the usual missing-column error.
  EXPECT_EQ(error(body), "data.csv: missing column 'price' (model feature 'price'); header "
                         "has: click, user_id, hist, num_3");
  // A column the eval step reads is still required.
  EXPECT_TRUE(test::contains(
      errorOf([&] { read("e2.csv", "click,user_id,hist\n1,3,1\n", evalReadOptions(Plan)); }),
      "missing column 'num_3' (model feature 'num_3')"));
}

TEST_F(CsvReaderTest, ReadsColumnsInPlanOrder) {
  DataSet d = read("data.csv", Header +
                                   "1,3,2.5,1|2,10,x\n"
                                   "0,9,-1e3,,20,y\n"
                                   "\n"
                                   "0.25,3,0,4|5|6|7,30,z\r\n");
  ASSERT_EQ(d.rows(), 3);
  EXPECT_EQ(std::vector<int64_t>(d.ids(0).begin(), d.ids(0).end()),
            (std::vector<int64_t>{3, 9, 3}));
  EXPECT_EQ(d.width(1), 3);
  EXPECT_EQ(std::vector<int64_t>(d.ids(1).begin(), d.ids(1).end()),
            (std::vector<int64_t>{1, 2, -1, -1, -1, -1, 4, 5, 6}));
  EXPECT_EQ(std::vector<float>(d.dense(2).begin(), d.dense(2).end()),
            (std::vector<float>{2.5f, -1000.0f, 0.0f}));
  EXPECT_EQ(std::vector<float>(d.label(0).begin(), d.label(0).end()),
            (std::vector<float>{1.0f, 0.0f, 0.25f}));
  // The GAUC group column (user_id) is interned: rows 0 and 2 share a group.
  std::span<const int64_t> g = d.groups("user_id");
  EXPECT_EQ(g[0], g[2]);
  EXPECT_NE(g[0], g[1]);
}

TEST_F(CsvReaderTest, PicksTheDelimiter) {
  EXPECT_EQ(pickDelimiter("a.tsv", "x,y"), '\t');
  EXPECT_EQ(pickDelimiter("a.CSV", "x\ty"), ',');
  EXPECT_EQ(pickDelimiter("a.txt", "x\ty\tz"), '\t');
  EXPECT_EQ(pickDelimiter("dir.v2/data", "x,y"), ',');
  DataSet d = read("data.tsv", "click\tuser_id\tprice\thist\tnum_3\n1\t2\t3\t4|5\t6\n");
  EXPECT_EQ(d.ids(0)[0], 2);
  EXPECT_EQ(d.ids(1)[1], 5);
}

TEST_F(CsvReaderTest, LabelsAreOptionalForPrediction) {
  std::string body = "user_id,price,hist,num_3\n1,2,3,4\n";
  EXPECT_EQ(error(body), "data.csv: missing column 'click' (model label 'click'); "
                         "header has: user_id, price, hist, num_3");
  DataSet d = read("p.csv", body, {.requireLabels = false, .requireGroups = false});
  EXPECT_FALSE(d.hasLabel(0));
  EXPECT_EQ(d.rows(), 1);
}

TEST_F(CsvReaderTest, MissingColumn) {
  EXPECT_EQ(error("click,price,hist,num_3\n1,2,3,4\n"),
            "data.csv: missing column 'user_id' (model feature 'user_id'); header has: "
            "click, price, hist, num_3");
}

TEST_F(CsvReaderTest, BadValuesNameLineAndColumn) {
  EXPECT_EQ(error(Header + "1,3,2.5,1,1,x\n0,3,abc,1,1,x\n"),
            "data.csv:3:3: non-numeric value 'abc' in column 'price'");
  EXPECT_EQ(error(Header + "1,10,2.5,1,1,x\n"),
            "data.csv:2:2: id 10 out of range for 'user_id' (vocabulary 10)");
  EXPECT_EQ(error(Header + "1,-2,2.5,1,1,x\n"),
            "data.csv:2:2: id -2 out of range for 'user_id' (vocabulary 10)");
  EXPECT_EQ(error(Header + "1,2,2.5,1|20,1,x\n"),
            "data.csv:2:4: id 20 out of range for 'hist' (vocabulary 20)");
  EXPECT_EQ(error(Header + "1,2.5,2.5,1,1,x\n"),
            "data.csv:2:2: non-integer id '2.5' in column 'user_id'");
  EXPECT_EQ(error(Header + "1,2,2.5,1||2,1,x\n"),
            "data.csv:2:4: empty id in column 'hist'");
  EXPECT_EQ(error(Header + "1,2,2.5,1,nan,x\n"), "data.csv:2:5: NaN in dense column 'num_3'");
  EXPECT_EQ(error(Header + "1,2,-inf,1,1,x\n"), "data.csv:2:3: Inf in dense column 'price'");
  EXPECT_EQ(error(Header + "1,2,,1,1,x\n"),
            "data.csv:2:3: empty value in column 'price' (no default: declare 'na = ...' on "
            "the input)");
  EXPECT_EQ(error(Header + ",2,1,1,1,x\n"), "data.csv:2:1: empty value in column 'click'");
  EXPECT_EQ(error(Header + "2,2,1,1,1,x\n"),
            "data.csv:2:1: label 'click' must be in [0, 1], got 2");
  EXPECT_EQ(error(Header + "NaN,2,1,1,1,x\n"), "data.csv:2:1: NaN in label column 'click'");
}

TEST_F(CsvReaderTest, StructuralErrors) {
  EXPECT_EQ(error(Header + "1,2,3,4,5,x\n1,2,3,4\n"),
            "data.csv:3: expected 6 fields as in the header, found 4");
  EXPECT_EQ(error(""), "data.csv: empty file (expected a header row)");
  EXPECT_EQ(error("\n\n"), "data.csv: empty file (expected a header row)");
  EXPECT_EQ(error(Header), "data.csv: no data rows after the header");
  EXPECT_EQ(error("click,user_id,price,hist,num_3,price\n1,2,3,4,5,6\n"),
            "data.csv:1: column 'price' appears twice in the header (columns 3 and 6)");
  EXPECT_EQ(errorOf([] { readDataFile("/nonexistent/x.csv", test::smallPlan()); }),
            "/nonexistent/x.csv: cannot open data file: No such file or directory");
  EXPECT_EQ(errorOf([&] { readDataFile(Dir.path(), Plan); }),
            Dir.path() + ": is a directory, not a data file");
  EXPECT_EQ(error(Header + "1,3,1e50,1,1,x\n"),
            "data.csv:2:3: value '1e50' is out of float range in column 'price'");
}

// Below float's range a value rounds to a denormal or to zero (keeping its
// sign), as strtof and other readers do; it is not an error.
TEST_F(CsvReaderTest, TinyValuesUnderflow) {
  DataSet d = read("data.csv", Header + "1,3,1e-50,1,1,x\n0,3,-1e-50,1,1e-40,x\n");
  EXPECT_EQ(d.dense(2)[0], 0.0f);
  EXPECT_EQ(d.dense(2)[1], 0.0f);
  EXPECT_TRUE(std::signbit(d.dense(2)[1]));
  EXPECT_EQ(d.dense(3)[1], std::strtof("1e-40", nullptr));
  EXPECT_GT(d.dense(3)[1], 0.0f);
}

// A pipe (process substitution, `zcat x | recc ... --data /dev/stdin`) is
// read to its end, not taken for an empty file.
TEST_F(CsvReaderTest, ReadsAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string body = Header;
  for (int i = 0; i < 20000; ++i) body += "1,3,2.5,1|2,10,x\n";  // more than a pipe buffer
  std::thread writer([&] {
    for (size_t off = 0; off < body.size();) {
      ssize_t n = ::write(fds[1], body.data() + off, body.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  DataSet d = readDataFile("/proc/self/fd/" + std::to_string(fds[0]), Plan);
  writer.join();
  ::close(fds[0]);
  EXPECT_EQ(d.rows(), 20000);
}

// The reader copies the file with read(2) instead of mapping it: a file
// truncated while it is read gives a shorter (or rejected) read, never SIGBUS.
// The truncation races with the read on purpose; before the fix some of
// these rounds died with SIGBUS inside the mapped pages.
TEST_F(CsvReaderTest, AFileThatShrinksWhileReadNeverCrashes) {
  std::string body = Header;
  for (int i = 0; i < 200000; ++i) body += "1,3,2.5,1|2,10,x\n";
  const std::string path = Dir.file("shrinks.csv");
  for (int round = 0; round < 10; ++round) {
    test::writeText(path, body);
    std::thread truncate([&] { ::truncate(path.c_str(), 100 + 1000 * round); });
    std::string err = errorOf([&] { readDataFile(path, Plan); });
    truncate.join();
    EXPECT_TRUE(err == "<no error>" || err.starts_with(path)) << err;
  }
}

TEST_F(CsvReaderTest, ReportsTheFirstBadLineWhateverTheThreads) {
  std::string body = Header;
  for (int i = 0; i < 30000; ++i)
    body += i == 14998 ? "1,2,oops,1,1,x\n" : i == 25000 ? "1,99,1,1,1,x\n" : "1,2,3,4,5,x\n";
  EXPECT_EQ(error(body), "data.csv:15000:3: non-numeric value 'oops' in column 'price'");
}

TEST_F(CsvReaderTest, ZscoreStatisticsAndTransform) {
  DataSet d = read("data.csv", Header + "1,1,0,1,1,a\n0,1,0,1,3,a\n0,1,0,1,5,a\n1,1,0,1,7,a\n");
  std::vector<FeatureStats> stats = computeFeatureStats(Plan, d);
  EXPECT_FALSE(stats[2].ready);  // price has no transform
  ASSERT_TRUE(stats[3].ready);
  EXPECT_DOUBLE_EQ(stats[3].mean, 4.0);
  EXPECT_DOUBLE_EQ(stats[3].stddev, std::sqrt(5.0));
  EXPECT_FLOAT_EQ(transformValue(Plan.features[3], stats[3], 7.0f),
                  static_cast<float>(std::tanh(3.0 / std::sqrt(5.0))));
  EXPECT_FLOAT_EQ(transformValue(Plan.features[2], stats[2], 7.0f), 7.0f);
  FeatureStats constant{2.0, 0.0, true};  // sigma clamps to 1e-6
  EXPECT_FLOAT_EQ(transformValue(Plan.features[3], constant, 2.0f), 0.0f);
  EXPECT_FLOAT_EQ(transformValue(Plan.features[3], constant, 3.0f), 1.0f);
  // zscore (ZEUS's D5) is the same standardization without the tanh.
  FeatureSpec plain = Plan.features[3];
  plain.transform = "zscore";
  EXPECT_TRUE(needsStats(plain));
  EXPECT_FLOAT_EQ(transformValue(plain, stats[3], 7.0f),
                  static_cast<float>(3.0 / std::sqrt(5.0)));
  EXPECT_FLOAT_EQ(transformValue(plain, constant, 3.0f), 1e6f);
}

/// The small plan with a bag-of-words feature 'ws': 2 elements of up to 3
/// words, vocabulary 20, read from column 'ws'.
ModelPlan bagPlan() {
  ModelPlan p = test::smallPlan();
  p.features.push_back({"ws", "ws", FeatureSpec::Kind::MultiCategorical, 20, 2, "item_emb",
                        "none", 3});
  return p;
}

TEST_F(CsvReaderTest, BagsOfWordsArePaddedAndTruncated) {
  Plan = bagPlan();
  const std::string head = "click,user_id,price,hist,num_3,ws\n";
  DataSet d = read("bags.csv", head +
                                   "1,1,0,1,1,1;2;3|4\n"        // full first bag
                                   "1,1,0,1,1,5;6;7;8;9|\n"     // words past 3 dropped; empty 2nd bag
                                   "1,1,0,1,1,|10\n"            // empty first bag
                                   "1,1,0,1,1,\n"               // no elements
                                   "1,1,0,1,1,\"1|2|3;19\"\n");  // elements past 2 dropped (but checked)
  ASSERT_EQ(d.width(4), 6);
  EXPECT_EQ(std::vector<int64_t>(d.ids(4).begin(), d.ids(4).end()),
            (std::vector<int64_t>{1, 2, 3, 4, -1, -1,     //
                                  5, 6, 7, -1, -1, -1,    //
                                  -1, -1, -1, 10, -1, -1, //
                                  -1, -1, -1, -1, -1, -1, //
                                  1, -1, -1, 2, -1, -1}));
  // Blanks are trimmed around the cell only, not around each word.
  EXPECT_EQ(error(head + "1,1,0,1,1,0 ; 0\n"),
            "data.csv:2:6: non-numeric value '0 ' in column 'ws' at element 1, word 1");
}

TEST_F(CsvReaderTest, BadWordsNameTheirElementAndWord) {
  Plan = bagPlan();
  const std::string head = "click,user_id,price,hist,num_3,ws\n";
  EXPECT_EQ(error(head + "1,1,0,1,1,1;2|3;x\n"),
            "data.csv:2:6: non-numeric value 'x' in column 'ws' at element 2, word 2");
  EXPECT_EQ(error(head + "1,1,0,1,1,1;2|3;20\n"),
            "data.csv:2:6: id 20 out of range for 'ws' (vocabulary 20) at element 2, word 2");
  EXPECT_EQ(error(head + "1,1,0,1,1,-1\n"),
            "data.csv:2:6: id -1 out of range for 'ws' (vocabulary 20) at element 1, word 1");
  EXPECT_EQ(error(head + "1,1,0,1,1,1;2.5\n"),
            "data.csv:2:6: non-integer id '2.5' in column 'ws' at element 1, word 2");
  EXPECT_EQ(error(head + "1,1,0,1,1,1;;2\n"),
            "data.csv:2:6: empty word id in column 'ws' at element 1, word 2");
  EXPECT_EQ(error(head + "1,1,0,1,1,1;\n"),
            "data.csv:2:6: empty word id in column 'ws' at element 1, word 2");
  // Words past the bag size and elements past the length are checked too.
  EXPECT_EQ(error(head + "1,1,0,1,1,1;2;3;4;99\n"),
            "data.csv:2:6: id 99 out of range for 'ws' (vocabulary 20) at element 1, word 5");
  EXPECT_EQ(error(head + "1,1,0,1,1,1|2|3;abc\n"),
            "data.csv:2:6: non-numeric value 'abc' in column 'ws' at element 3, word 2");
  // A ';' in a plain id list is not a bag separator.
  EXPECT_EQ(error(head + "1,1,0,1;2,1,1\n"),
            "data.csv:2:4: non-numeric value '1;2' in column 'hist'");
}

} // namespace
} // namespace recc::rt
