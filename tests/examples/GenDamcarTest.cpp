// Smoke tests of gen_damcar's files (examples/damcar/README.md): columns and vocabularies
// (those of models/damcar*.rec), the 6:2:2 split in time, the corpus file, byte-identical
// output for a seed, and the planted bias as the files show it: exposures concentrate on
// popular videos, test positives are mostly videos the user was never exposed to in
// training, and the random walks over the training exposures find test positives far more
// often than random unexposed pairs do.
#include "GenCsv.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace {

using namespace recc::gentest;

const std::vector<std::string> kContent = {"v_0", "v_1", "v_2", "v_3", "a_0", "a_1",
                                           "a_2", "a_3", "t_0", "t_1", "t_2", "t_3"};

class GenDamcarTest : public testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("gen_damcar_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    ASSERT_EQ(run("a", 1), 0);
    for (const char *f : {"train", "valid", "test", "items"})
      (*files_)[f] = readCsv(*dir_ / "a" / (std::string(f) + ".csv"));
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }
  static int run(const std::string &name, int seed, const std::string &extra = "") {
    return runStatus(std::string(GEN_DAMCAR) + " --out " + (*dir_ / name).string() +
                     " --users 2000 --items 1500 --authors 200 --exposures-per-user 40 --seed " +
                     std::to_string(seed) + " " + extra + " 2>" + (*dir_ / (name + ".err")).string());
  }
  static const Csv &file(const std::string &name) { return files_->at(name); }
  static fs::path *dir_;
  static std::map<std::string, Csv> *files_;
};
fs::path *GenDamcarTest::dir_;
std::map<std::string, Csv> *GenDamcarTest::files_ = new std::map<std::string, Csv>;

TEST_F(GenDamcarTest, ColumnsVocabulariesAndTheTimeSplit) {
  std::vector<std::string> cols = {"user_id", "item_id", "author_id"};
  cols.insert(cols.end(), kContent.begin(), kContent.end());
  std::vector<std::string> items = cols;
  items.erase(items.begin());
  cols.push_back("watch_time"), cols.push_back("finish");
  double rows[3];
  int k = 0;
  for (const char *f : {"train", "valid", "test"}) {
    const Csv &csv = file(f);
    EXPECT_EQ(csv.header, cols) << f;
    rows[k++] = double(csv.rows.size());
    for (const auto &r : csv.rows) {
      ASSERT_EQ(r.size(), cols.size());
      ASSERT_LT(std::stol(r[0]), 2000);
      ASSERT_LT(std::stol(r[1]), 1500);
      ASSERT_LT(std::stol(r[2]), 200);
      ASSERT_GE(std::stod(r[15]), 0.0);
      ASSERT_TRUE(r[16] == "0" || r[16] == "1");
    }
  }
  double total = rows[0] + rows[1] + rows[2];
  EXPECT_NEAR(rows[0] / total, 0.6, 0.02);
  EXPECT_NEAR(rows[1] / total, 0.2, 0.02);
  EXPECT_EQ(file("items").header, items);
  ASSERT_EQ(file("items").rows.size(), 1500u);
  // Every row carries its video's content, as the corpus file has it.
  for (const auto &r : file("train").rows) {
    const auto &item = file("items").rows[std::stoi(r[1])];
    ASSERT_EQ(item[0], r[1]);
    for (size_t c = 1; c < item.size(); ++c) ASSERT_EQ(item[c], r[c + 1]);
  }
}

TEST_F(GenDamcarTest, SameSeedSameBytesOtherSeedOtherBytes) {
  ASSERT_EQ(run("b", 1), 0);
  ASSERT_EQ(run("c", 2), 0);
  for (const char *f : {"train.csv", "test.csv", "items.csv"}) {
    EXPECT_EQ(slurp(*dir_ / "a" / f), slurp(*dir_ / "b" / f)) << f;
    EXPECT_NE(slurp(*dir_ / "a" / f), slurp(*dir_ / "c" / f)) << f;
  }
}

TEST_F(GenDamcarTest, TestPositivesAreMostlyUnexposedInTraining) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto &r : file("train").rows) seen.insert({r[0], r[1]});
  double pos = 0, unexposed = 0;
  for (const auto &r : file("test").rows)
    if (r[16] == "1") ++pos, unexposed += !seen.count({r[0], r[1]});
  EXPECT_GT(pos, 1000);
  EXPECT_GT(unexposed / pos, 0.8);
}

TEST_F(GenDamcarTest, WalksFromTrainingExposuresFindTestPositives) {
  fs::path a = *dir_ / "a";
  std::string base = std::string(WALK_SAMPLE) + " --exposures " + (a / "train.csv").string() +
                     " --radius 25 --visits 50 --threads 2 2>>" + (*dir_ / "walk.err").string();
  ASSERT_EQ(runStatus(base + " --out " + (a / "sam.csv").string()), 0);
  ASSERT_EQ(runStatus(base + " --random --out " + (a / "rnd.csv").string()), 0);
  std::set<std::pair<std::string, std::string>> positives;
  for (const auto &r : file("test").rows)
    if (r[16] == "1") positives.insert({r[0], r[1]});
  auto hitRate = [&](const fs::path &p) {
    Csv csv = readCsv(p);
    double hits = 0;
    for (const auto &r : csv.rows) hits += positives.count({r[0], r[1]});
    return hits / std::max<size_t>(csv.rows.size(), 1);
  };
  double walk = hitRate(a / "sam.csv"), random = hitRate(a / "rnd.csv");
  EXPECT_GT(walk, 3 * random) << walk << " vs " << random;
}

TEST_F(GenDamcarTest, BadFlagsNameTheFlag) {
  EXPECT_EQ(run("bad", 1, "--items 0"), 2);
  EXPECT_NE(slurp(*dir_ / "bad.err").find("'--items'"), std::string::npos);
  EXPECT_EQ(runStatus(std::string(GEN_DAMCAR) + " 2>" + (*dir_ / "bad2.err").string()), 2);
  EXPECT_NE(slurp(*dir_ / "bad2.err").find("--out"), std::string::npos);
}

} // namespace
