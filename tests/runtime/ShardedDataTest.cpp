// Tests of the pieces of training under mpirun that work in one process:
// reading a shard of the rows, packing rows for the exchange, combining
// feature statistics, summing row gradients per id, and a one-rank cluster.
// The ranks themselves are tested under mpirun (tests/e2e/mpi_test.sh).
#include "runtime/Cluster.h"
#include "runtime/CsvReader.h"
#include "runtime/EmbeddingTable.h"
#include "runtime/ShardedData.h"
#include "runtime/ShardedTables.h"
#include "runtime/TouchedRows.h"

#include "Compressed.h"
#include "TestUtil.h"

#include <fmt/format.h>

#include <numeric>

namespace recc::rt {
namespace {

class ShardedDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string csv = "click,user_id,price,hist,num_3\n";
    for (int r = 0; r < 11; ++r)
      csv += fmt::format("{},{},{}.5,{}|{},{}\n", r % 2, r % 10, r, r % 20, (r * 3) % 20,
                         r * r % 7);
    test::writeText(Dir.file("data.csv"), csv);
  }
  DataSet read(int index, int count) {
    ReadOptions o;
    o.shardIndex = index;
    o.shardCount = count;
    return readDataFile(Dir.file("data.csv"), Plan, o);
  }

  test::TempDir Dir;
  ModelPlan Plan = test::smallPlan();
};

/// Shards 0..count-1 of `paths` end to end are every row once, in order.
void expectShardsAreTheRowsInOrder(const std::vector<std::string>& paths, const ModelPlan& plan,
                                   int count, std::vector<int64_t>* sizes = nullptr) {
  SCOPED_TRACE(fmt::format("{} shards", count));
  const DataSet whole = readDataFiles(paths, plan);
  int64_t row = 0;
  for (int s = 0; s < count; ++s) {
    ReadOptions o;
    o.shardIndex = s;
    o.shardCount = count;
    const DataSet shard = readDataFiles(paths, plan, o);
    if (sizes)
      sizes->push_back(shard.rows());
    for (int64_t r = 0; r < shard.rows() && row < whole.rows(); ++r, ++row) {
      EXPECT_EQ(shard.dense(2)[r], whole.dense(2)[row]) << "row " << row;
      EXPECT_EQ(shard.ids(1)[r * 3], whole.ids(1)[row * 3]);
      EXPECT_EQ(shard.label(0)[r], whole.label(0)[row]);
    }
  }
  EXPECT_EQ(row, whole.rows());
}

// Plain files: each shard reads the lines that start in its share of the
// bytes; with more shards than lines some have none.
TEST_F(ShardedDataTest, ShardsOfPlainFilesAreTheRowsInOrder) {
  for (int count : {1, 2, 3, 4, 7, 40}) expectShardsAreTheRowsInOrder({Dir.file("data.csv")}, Plan, count);
  // Several files, each with its header, blank lines and CRLF endings.
  const std::string header = "click,user_id,price,hist,num_3\r\n";
  test::writeText(Dir.file("b.csv"), "\n" + header + "1,3,7.5,1|2,4\r\n\n0,4,8.5,2|3,5\r\n");
  test::writeText(Dir.file("c.csv"), header + "1,5,9.5,3|4,6");  // no final newline
  for (int count : {2, 3, 5, 9})
    expectShardsAreTheRowsInOrder({Dir.file("data.csv"), Dir.file("b.csv"), Dir.file("c.csv")},
                                  Plan, count);
}

// Compressed files cannot be read from the middle: each shard reads them
// whole and keeps its range of rows, [R*i/n, R*(i+1)/n).
TEST_F(ShardedDataTest, ShardsOfCompressedFilesAreRowRanges) {
  test::writeText(Dir.file("data.csv.gz"), test::gzipOf(test::readText(Dir.file("data.csv"))));
  std::vector<int64_t> sizes;
  expectShardsAreTheRowsInOrder({Dir.file("data.csv.gz")}, Plan, 3, &sizes);
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 4, 4}));
}

TEST_F(ShardedDataTest, AShardNamesTheFileLineOfABadRow) {
  test::writeText(Dir.file("data.csv"), "click,user_id,price,hist,num_3\n1,2,3,4,5\n1,2,x,4,5\n");
  EXPECT_EQ(read(0, 2).rows(), 1);  // the bad row is not this shard's: not parsed
  EXPECT_TRUE(test::contains(test::errorOf([&] { read(1, 2); }),
                             "data.csv:3:3: non-numeric value 'x' in column 'price'"));
}

TEST_F(ShardedDataTest, PackedRowsUnpackIntoOtherPlacesWithTheirGroups) {
  const DataSet data = read(0, 1);
  const std::vector<int64_t> rows{7, 2, 9};
  std::string bytes;
  packRows(Plan, data, rows, true, bytes);
  DataSet into(Plan, 5, true, true);
  const std::vector<int64_t> at{4, 0, 2};
  EXPECT_EQ(unpackRows(Plan, bytes, into, at, true), bytes.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(into.dense(3)[size_t(at[k])], data.dense(3)[size_t(rows[k])]);
    EXPECT_EQ(into.ids(0)[size_t(at[k])], data.ids(0)[size_t(rows[k])]);
    for (int w = 0; w < 3; ++w)
      EXPECT_EQ(into.ids(1)[size_t(at[k] * 3 + w)], data.ids(1)[size_t(rows[k] * 3 + w)]);
    EXPECT_EQ(into.label(0)[size_t(at[k])], data.label(0)[size_t(rows[k])]);
    const auto name = [](const DataSet& d, int64_t r) {
      return d.groupNames("user_id")[size_t(d.groups("user_id")[size_t(r)])];
    };
    EXPECT_EQ(name(into, at[k]), name(data, rows[k]));
  }
  // Bytes from a model with fewer columns end early: an error, not a read
  // past the end.
  EXPECT_TRUE(test::contains(
      test::errorOf([&] { unpackRows(Plan, bytes.substr(0, 20), into, at, true); }),
      "packed rows end after 20 bytes"));
}

TEST_F(ShardedDataTest, OneRankGathersAndCombinesToItsOwnData) {
  ASSERT_EQ(Cluster::size(), 1);
  const DataSet data = read(0, 1);
  const ShardLayout layout(data.rows());
  EXPECT_EQ(layout.globalRows(), 11);
  EXPECT_EQ(layout.owner(10), 0);
  const std::vector<FeatureStats> one = computeFeatureStats(Plan, data);
  const std::vector<FeatureStats> all = globalFeatureStats(Plan, data);
  EXPECT_NEAR(all[3].mean, one[3].mean, 1e-12);
  EXPECT_NEAR(all[3].stddev, one[3].stddev, 1e-12);
  const DataSet gathered = gatherAll(Plan, data);
  ASSERT_EQ(gathered.rows(), data.rows());
  EXPECT_EQ(gathered.label(0)[5], data.label(0)[5]);
  // A step's slice is the whole batch in one process.
  DataSet step(Plan, 3);
  const std::vector<int64_t> batch{8, 1, 4};
  gatherStepRows(Plan, layout, data, batch, step);
  EXPECT_EQ(step.dense(2)[0], data.dense(2)[8]);
  EXPECT_EQ(step.dense(2)[2], data.dense(2)[4]);
  std::vector<float> v{1, 2, 3};
  Cluster::sumInRankOrder(v);
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(Cluster::exchange({"x"}), std::vector<std::string>{"x"});
}

TEST_F(ShardedDataTest, OneRankOwnsEveryTouchedRow) {
  ModelPlan dynamic = Plan;
  for (TableSpec& t : dynamic.tables) t.dynamic = true;
  const DataSet data = read(0, 1);
  EXPECT_EQ(ownedTouchedRows(dynamic, data), touchedRows(dynamic, data));
  EXPECT_EQ(ownedTouchedRows(dynamic, data).at("user_emb"), 10);
}

TEST_F(ShardedDataTest, RowFingerprintsOfShardsAddUpToTheWhole) {
  const DataSet whole = read(0, 1);
  uint64_t sum = 0;
  int64_t first = 0;
  for (int s = 0; s < 3; ++s) {
    const DataSet shard = read(s, 3);
    sum += rowFingerprint(Plan, shard, first).hash;
    first += shard.rows();
  }
  EXPECT_EQ(sum, rowFingerprint(Plan, whole, 0).hash);
  // A row moved is another data set.
  EXPECT_NE(rowFingerprint(Plan, read(1, 3), 0).hash, rowFingerprint(Plan, read(1, 3), 3).hash);
}

TEST(SumRowGradients, SumsRepeatsPerIdInIncreasingIdOrder) {
  const std::vector<int64_t> a{5, -1, 2, 5}, b{2};
  const std::vector<float> ga{1, 1, 9, 9, 2, 2, 3, 4}, gb{10, 20};
  const std::vector<EmbeddingTable::RowGradients> sources{{a, ga.data()}, {b, gb.data()}};
  const SummedRows s = sumRowGradients(sources, 8, 2);
  EXPECT_EQ(s.ids, (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(s.grads, (std::vector<float>{12, 22, 4, 5}));
}

} // namespace
} // namespace recc::rt
