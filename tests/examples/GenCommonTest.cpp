// Tests of examples/common: the alias sampler draws in proportion to its weights, Zipf ids
// are a permutation fixed by the world seed, and CsvBuffer's formatting.
#include "examples/common/CsvOutput.h"
#include "examples/common/Random.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <vector>

namespace recc::gen {
namespace {

TEST(AliasTableTest, DrawsInProportionToWeights) {
  const std::vector<double> w = {0.5, 0.0, 3.0, 1.5};
  AliasTable t(w);
  Rng rng(3);
  std::vector<int> n(w.size());
  const int draws = 200000;
  for (int k = 0; k < draws; ++k) n[t.sample(rng)]++;
  EXPECT_EQ(n[1], 0);
  for (size_t k = 0; k < w.size(); ++k) EXPECT_NEAR(double(n[k]) / draws, w[k] / 5.0, 0.005) << k;
}

TEST(ZipfIdsTest, PermutationDependsOnlyOnTheWorldSeed) {
  Rng a(9), b(9), c(10);
  ZipfIds za(1000, 1.0, a), zb(1000, 1.0, b), zc(1000, 1.0, c);
  std::set<int> ids;
  bool differs = false;
  for (int r = 0; r < 1000; ++r) {
    EXPECT_EQ(za.id(r), zb.id(r));
    differs |= za.id(r) != zc.id(r);
    ids.insert(za.id(r));
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(ids.size(), 1000u);
  Rng draw(1);
  double total = 0;  // rank r has weight (r + 10)^-1
  for (int r = 0; r < 1000; ++r) total += 1.0 / (r + 10);
  int top = 0;
  for (int k = 0; k < 100000; ++k) top += za.rank(draw) == 0;
  EXPECT_NEAR(top / 100000.0, 0.1 / total, 0.002);
}

TEST(CsvBufferTest, FormatsIntegersDoublesAndText) {
  CsvBuffer csv;
  csv.put(42), csv.sep(','), csv.put(0.05), csv.sep(','), csv.put(1.0 / 3), csv.sep(',');
  csv.put(std::string_view("a|b")), csv.sep('\n');
  FILE *f = std::tmpfile();
  ASSERT_TRUE(csv.flush(f));
  std::rewind(f);
  char line[64] = {};
  ASSERT_TRUE(std::fgets(line, sizeof line, f));
  EXPECT_STREQ(line, "42,0.05,0.3333333,a|b\n");
  std::fclose(f);
}

} // namespace
} // namespace recc::gen
