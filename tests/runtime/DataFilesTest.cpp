// Tests of reading several data files as one: file lists and globs
// (DataFiles.h), gzip and zstd text (TextSource.h), one data set over many
// files and its errors (readDataFiles), and the chunked reader of streaming
// training (DataChunks), which must give the rows readDataFiles gives.
#include "runtime/CsvReader.h"
#include "runtime/DataFiles.h"
#include "runtime/TextSource.h"

#include "Compressed.h"
#include "TestUtil.h"

#include <fmt/format.h>

namespace recc::rt {
namespace {

using test::errorOf;
using test::gzipOf;
using test::zstdOf;


class DataFilesTest : public ::testing::Test {
protected:
  std::string write(const std::string& name, const std::string& body) {
    test::writeText(Dir.file(name), body);
    return Dir.file(name);
  }
  /// `msg` with the temp dir stripped from paths.
  std::string local(std::string msg) const {
    const std::string prefix = Dir.path() + "/";
    for (size_t at; (at = msg.find(prefix)) != std::string::npos;)
      msg.erase(at, prefix.size());
    return msg;
  }
  std::vector<int64_t> users(const DataSet& d) const {
    return {d.ids(0).begin(), d.ids(0).end()};
  }

  test::TempDir Dir;
  ModelPlan Plan = test::smallPlan();
  const std::string Header = "click,user_id,price,hist,num_3\n";
};

TEST_F(DataFilesTest, ListsGlobsAndRepeatedFlagsInOrder) {
  write("day2.csv", "x");
  write("day1.csv", "x");
  write("day10.csv", "x");
  write("other.csv", "x");
  std::vector<std::string> files =
      expandDataFiles("--data", {Dir.file("other.csv"), Dir.file("day*.csv") + "," +
                                                            Dir.file("other.csv")});
  for (std::string& f : files) f = local(f);
  EXPECT_EQ(files, (std::vector<std::string>{"other.csv", "day1.csv", "day10.csv", "day2.csv",
                                             "other.csv"}));
  EXPECT_EQ(local(errorOf([&] { expandDataFiles("--data", {Dir.file("week*.csv")}); })),
            "--data 'week*.csv': no file matches");
  EXPECT_EQ(local(errorOf([&] { expandDataFiles("--eval-data", {Dir.file("day9.csv")}); })),
            "--eval-data day9.csv: no such file");
  EXPECT_EQ(local(errorOf([&] {
              expandDataFiles("--data", {Dir.file("day1.csv") + ",," + Dir.file("day2.csv")});
            })),
            "--data 'day1.csv,,day2.csv': empty file name in the list");
}

TEST_F(DataFilesTest, ReadsFilesAsOneDataSetInOrder) {
  std::string a = write("a.csv", Header + "1,3,1,1|2,10\n0,4,2,,20\n");
  std::string b = write("b.csv", "\n" + Header + "1,5,3,3,30\n");
  DataSet d = readDataFiles({a, b}, Plan);
  EXPECT_EQ(users(d), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(d.dense(3)[2], 30.0f);
  EXPECT_EQ(readDataFiles({b, a}, Plan).ids(0)[0], 5);
  // One file reads exactly as readDataFile reads it.
  EXPECT_EQ(users(readDataFiles({a}, Plan)), users(readDataFile(a, Plan)));
}

TEST_F(DataFilesTest, DifferentHeadersAndErrorsNameTheFile) {
  std::string a = write("a.csv", Header + "1,3,1,1|2,10\n");
  std::string b = write("b.csv", "click,price,user_id,hist,num_3\n1,3,1,1,10\n");
  EXPECT_EQ(local(errorOf([&] { readDataFiles({a, b}, Plan); })),
            "b.csv:1: header differs from that of a.csv: 'click,price,user_id,hist,num_3' "
            "here, 'click,user_id,price,hist,num_3' there (the files of one data flag must "
            "have the same columns in the same order)");
  std::string c = write("c.csv", Header + "1,3,1,1,10\n\n0,x,1,1,10\n");
  EXPECT_EQ(local(errorOf([&] { readDataFiles({a, c}, Plan); })),
            "c.csv:4:2: non-numeric value 'x' in column 'user_id'");
  std::string empty = write("empty.csv", "");
  EXPECT_EQ(local(errorOf([&] { readDataFiles({a, empty}, Plan); })),
            "empty.csv: empty file (expected a header row)");
  std::string tsv = write("d.tsv", "click\tuser_id\tprice\thist\tnum_3\n1\t3\t1\t1\t10\n");
  EXPECT_TRUE(test::contains(local(errorOf([&] { readDataFiles({a, tsv}, Plan); })),
                             "d.tsv:1: delimiter differs from that of a.csv"));
}

TEST_F(DataFilesTest, GzipAndZstdAreReadByTheirMagicBytes) {
  const std::string body = Header + "1,3,1,1|2,10\n0,4,2,,20\n";
  const std::string plain = write("plain.csv", body);
  const std::vector<int64_t> want = users(readDataFile(plain, Plan));
  for (const auto& [name, bytes] :
       {std::pair<std::string, std::string>{"a.csv.gz", gzipOf(body)},
        {"a.gz", gzipOf(body)},  // no .csv: the delimiter is sniffed
        {"a.csv.zst", zstdOf(body)},
        {"compressed.csv", zstdOf(body)},  // the name says nothing
        {"plain.csv.gz", body}}) {         // the name lies
    SCOPED_TRACE(name);
    EXPECT_EQ(users(readDataFile(write(name, bytes), Plan)), want);
  }
  // Concatenated members / frames, as `cat a.gz b.gz` makes.
  const std::string more = "1,7,1,1,10\n";
  EXPECT_EQ(users(readDataFile(write("two.gz", gzipOf(body) + gzipOf(more)), Plan)),
            (std::vector<int64_t>{3, 4, 7}));
  EXPECT_EQ(users(readDataFile(write("two.zst", zstdOf(body) + zstdOf(more)), Plan)),
            (std::vector<int64_t>{3, 4, 7}));
  // A .tsv.gz is tab-separated.
  EXPECT_EQ(pickDelimiter("x.TSV.gz", "a,b"), '\t');
  EXPECT_EQ(pickDelimiter("x.csv.zst", "a\tb"), ',');
}

TEST_F(DataFilesTest, CompressedErrorsNameTheFileAndTheLineOfTheText) {
  std::string gz = write("bad.csv.gz", gzipOf(Header + "1,3,1,1,10\n1,3,1,1,nan\n"));
  EXPECT_EQ(local(errorOf([&] { readDataFile(gz, Plan); })),
            "bad.csv.gz:3:5: NaN in dense column 'num_3'");
  std::string whole = gzipOf(Header + "1,3,1,1,10\n");
  std::string cut = write("cut.gz", whole.substr(0, whole.size() - 6));
  EXPECT_EQ(local(errorOf([&] { readDataFile(cut, Plan); })),
            "cut.gz: gzip stream ends early (truncated file?)");
  std::string zcut = zstdOf(Header + "1,3,1,1,10\n");
  std::string zc = write("cut.zst", zcut.substr(0, zcut.size() - 3));
  EXPECT_EQ(local(errorOf([&] { readDataFile(zc, Plan); })),
            "cut.zst: zstd stream ends early (truncated file?)");
  std::string junk = whole;
  junk[12] = char(junk[12] ^ 0x55);
  junk[13] = char(junk[13] ^ 0x55);
  EXPECT_TRUE(test::contains(local(errorOf([&] { readDataFile(write("junk.gz", junk), Plan); })),
                             "junk.gz: "));
}

TEST_F(DataFilesTest, ChunksGiveTheRowsOfTheWholeRead) {
  std::string rows;
  for (int i = 0; i < 23; ++i)
    rows += fmt::format("{},{},{},{}|{},{}\n", i % 2, i % 10, i, i % 20, (i + 1) % 20, i * 3);
  const size_t cut = rows.find('\n', rows.size() / 2) + 1;
  std::string a = write("a.csv", Header + rows.substr(0, cut));
  std::string rest = rows.substr(cut);
  std::string b = write("b.csv.gz", gzipOf(Header + "\r\n" + rest));
  DataSet whole = readDataFiles({a, b}, Plan);
  for (int64_t size : {1, 4, 7, 100}) {
    SCOPED_TRACE(size);
    DataChunks chunks({a, b}, Plan);
    std::vector<float> dense;
    std::vector<int64_t> hist;
    int64_t n = 0;
    for (DataSet c = chunks.next(size); c.rows() > 0; c = chunks.next(size)) {
      EXPECT_LE(c.rows(), size);
      n += c.rows();
      dense.insert(dense.end(), c.dense(2).begin(), c.dense(2).end());
      hist.insert(hist.end(), c.ids(1).begin(), c.ids(1).end());
    }
    EXPECT_EQ(n, whole.rows());
    EXPECT_EQ(dense, std::vector<float>(whole.dense(2).begin(), whole.dense(2).end()));
    EXPECT_EQ(hist, std::vector<int64_t>(whole.ids(1).begin(), whole.ids(1).end()));
  }
  // Errors name the file and the line, as the whole read does.
  std::string bad = write("bad.csv", Header + "1,3,1,1,10\n1,3,1,1\n");
  DataChunks chunks({a, bad}, Plan);
  EXPECT_EQ(local(errorOf([&] {
              while (chunks.next(5).rows() > 0) {
              }
            })),
            "bad.csv:3: expected 5 fields as in the header, found 4");
  std::string header = write("header.csv", Header);
  EXPECT_EQ(local(errorOf([&] { DataChunks({header}, Plan).next(5); })),
            "header.csv: no data rows after the header");
}

} // namespace
} // namespace recc::rt
