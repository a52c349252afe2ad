// DAMCAR's random-walk target domain (examples/damcar/RandomWalk.h): the transition
// probabilities of Eqs. 1-2, the walk's visit distribution against the exact one of a
// small graph, restarts, Eq. 3's threshold, determinism across thread counts, the random
// ablation, and walk_sample's errors and item join.
#include "GenCsv.h"
#include "examples/damcar/RandomWalk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace {

using namespace recc::damcar;
using namespace recc::gentest;

// 3 users, 4 items. User 0 watched items 0 and 1; user 1 items 1 and 2; user 2 items 2, 3.
// (0, 0) appears twice: its weights add up.
std::vector<Interaction> smallGraph() {
  return {{0, 0, 1}, {0, 0, 2}, {0, 1, 1}, {1, 1, 3}, {1, 2, 1}, {2, 2, 2}, {2, 3, 2}};
}

TEST(RandomWalkTest, TransitionsFollowEquationsOneAndTwo) {
  ExposureGraph g(smallGraph());
  EXPECT_EQ(g.users(), 3);
  EXPECT_EQ(g.items(), 4);
  EXPECT_EQ(g.edges(), 6);
  EXPECT_NEAR(g.pUserToItem(0, 0), 0.75, 1e-6);      // 3 / (3 + 1)
  EXPECT_NEAR(g.pUserToItem(0, 1), 0.25, 1e-6);
  EXPECT_EQ(g.pUserToItem(0, 2), 0.0);
  EXPECT_NEAR(g.pItemToUser(1, 0), 0.25, 1e-6);      // 1 / (1 + 3)
  EXPECT_NEAR(g.pItemToUser(1, 1), 0.75, 1e-6);
  EXPECT_NEAR(g.pItemToUser(2, 2), 2.0 / 3, 1e-6);
  EXPECT_TRUE(g.exposed(1, 2));
  EXPECT_FALSE(g.exposed(0, 2));
}

/// The exact share of item visits of walks of R hops from user u, each walk counted in
/// full: the item at hop 2k-1 has distribution pi_k = pi_{k-1} P(i -> u') P(u' -> i').
std::vector<double> exactVisitShare(const ExposureGraph &g, int u, int radius) {
  std::vector<double> pi(g.items()), total(g.items());
  for (int i = 0; i < g.items(); ++i) pi[i] = g.pUserToItem(u, i);
  int perWalk = (radius + 1) / 2;
  for (int k = 0; k < perWalk; ++k) {
    for (int i = 0; i < g.items(); ++i) total[i] += pi[i] / perWalk;
    std::vector<double> next(g.items());
    for (int i = 0; i < g.items(); ++i)
      for (int v = 0; v < g.users(); ++v)
        for (int j = 0; j < g.items(); ++j) next[j] += pi[i] * g.pItemToUser(i, v) * g.pUserToItem(v, j);
    pi = next;
  }
  return total;
}

TEST(RandomWalkTest, VisitsMatchTheExactWalkDistribution) {
  ExposureGraph g(smallGraph());
  for (int radius : {1, 3, 5}) {
    WalkOptions o;
    o.radius = radius;
    o.visits = 300000 * ((radius + 1) / 2);   // whole walks only
    std::vector<double> want = exactVisitShare(g, 0, radius);
    std::vector<double> got(g.items());
    for (auto [item, t] : visitCounts(g, 0, o)) got[item] = double(t) / o.visits;
    for (int i = 0; i < g.items(); ++i) EXPECT_NEAR(got[i], want[i], 0.004) << "R " << radius << " item " << i;
  }
  // Items 2 and 3 are two hops of users away from user 0: R = 3 reaches item 2 only.
  EXPECT_GT(exactVisitShare(g, 0, 3)[2], 0.01);
  EXPECT_EQ(exactVisitShare(g, 0, 3)[3], 0.0);
  EXPECT_GT(exactVisitShare(g, 0, 5)[3], 0.0);
}

TEST(RandomWalkTest, RadiusOneOnlyVisitsExposedItemsSoNoHardSamples) {
  ExposureGraph g(smallGraph());
  WalkOptions o;
  o.radius = 1, o.visits = 100;
  for (int u = 0; u < g.users(); ++u)
    for (auto [item, t] : visitCounts(g, u, o)) EXPECT_TRUE(g.exposed(u, item));
  EXPECT_TRUE(selectHardSamples(g, o).empty());
}

TEST(RandomWalkTest, EquationThreeKeepsUnexposedItemsAtTheExposedMean) {
  ExposureGraph g(smallGraph());
  // User 0's exposed items 0 and 1 were visited 4 and 2 times: the mean is 3.
  auto kept = hardSamplesOf(g, 0, {{0, 4}, {1, 2}, {2, 3}, {3, 2}});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].item, 2);
  EXPECT_EQ(kept[0].visits, 3);
  EXPECT_TRUE(hardSamplesOf(g, 0, {{0, 4}, {1, 2}, {3, 2}}).empty());
}

TEST(RandomWalkTest, VisitBudgetCountsItemVisitsOrWalks) {
  ExposureGraph g(smallGraph());
  WalkOptions o;
  o.radius = 7, o.visits = 50;
  auto total = [](const std::vector<std::pair<int, int>> &v) {
    int n = 0;
    for (auto [item, t] : v) n += t;
    return n;
  };
  EXPECT_EQ(total(visitCounts(g, 1, o)), 50);
  o.countWalks = true;
  EXPECT_EQ(total(visitCounts(g, 1, o)), 50 * 4);   // 4 items per walk of 7 hops
}

std::vector<Interaction> randomGraph(int users, int items, int perUser) {
  recc::gen::Rng rng(3);
  std::vector<Interaction> edges;
  for (int u = 0; u < users; ++u)
    for (int k = 0; k < perUser; ++k) edges.push_back({u, rng.below(items), 1 + 100 * rng.uniform()});
  return edges;
}

TEST(RandomWalkTest, SameSeedSameSamplesAtAnyThreadCount) {
  ExposureGraph g(randomGraph(300, 200, 6));
  WalkOptions o;
  o.radius = 9, o.visits = 60, o.seed = 11;
  auto key = [](const std::vector<HardSample> &v) {
    std::vector<std::tuple<int, int, int>> k;
    for (auto &s : v) k.emplace_back(s.user, s.item, s.visits);
    return k;
  };
  o.threads = 1;
  auto one = key(selectHardSamples(g, o));
  o.threads = 3;
  EXPECT_EQ(key(selectHardSamples(g, o)), one);
  EXPECT_FALSE(one.empty());
  for (auto [u, item, t] : one) EXPECT_FALSE(g.exposed(u, item));
  o.seed = 12;
  EXPECT_NE(key(selectHardSamples(g, o)), one);
}

TEST(RandomWalkTest, RandomAblationDrawsDistinctUnexposedPairs) {
  ExposureGraph g(randomGraph(50, 40, 5));
  auto pairs = randomUnexposed(g, 500, 1);
  ASSERT_EQ(pairs.size(), 500u);
  std::set<std::pair<int, int>> distinct;
  for (auto &s : pairs) {
    EXPECT_FALSE(g.exposed(s.user, s.item));
    distinct.insert({s.user, s.item});
  }
  EXPECT_EQ(distinct.size(), 500u);
  EXPECT_THROW(randomUnexposed(g, 50 * 40, 1), std::invalid_argument);
}

TEST(RandomWalkTest, BadWeightsAreRefused) {
  EXPECT_THROW(ExposureGraph({{0, 0, -1}}), std::invalid_argument);
  EXPECT_THROW(ExposureGraph({{0, 0, NAN}}), std::invalid_argument);
  EXPECT_THROW(ExposureGraph({{-1, 0, 1}}), std::invalid_argument);
}

class WalkSampleToolTest : public testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("walk_sample_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void writeFile(const std::string &name, const std::string &text) { std::ofstream(dir_ / name) << text; }
  int run(const std::string &args) {
    return runStatus(std::string(WALK_SAMPLE) + " " + args + " 2>" + (dir_ / "err").string());
  }
  std::string err() { return slurp(dir_ / "err"); }
  fs::path dir_;
};

TEST_F(WalkSampleToolTest, WritesHardSamplesWithItemFeatures) {
  std::string log = "user_id,item_id,watch_time,finish\n";
  for (auto &e : randomGraph(40, 30, 5))
    log += std::to_string(e.user) + "," + std::to_string(e.item) + "," + std::to_string(e.weight) + ",1\n";
  writeFile("exp.csv", log);
  std::string items = "item_id,author_id,visual\n";
  for (int i = 0; i < 30; ++i) items += std::to_string(i) + "," + std::to_string(i % 7) + ",0.5\n";
  writeFile("items.csv", items);
  std::string base = "--exposures " + (dir_ / "exp.csv").string() + " --radius 5 --visits 40 --threads 2";
  ASSERT_EQ(run(base + " --out " + (dir_ / "sam.csv").string() + " --items " + (dir_ / "items.csv").string()), 0) << err();
  Csv sam = readCsv(dir_ / "sam.csv");
  EXPECT_EQ(sam.header, (std::vector<std::string>{"user_id", "item_id", "visits", "author_id", "visual"}));
  ASSERT_FALSE(sam.rows.empty());
  for (auto &r : sam.rows) EXPECT_EQ(r[3], std::to_string(std::stoi(r[1]) % 7));
  ASSERT_EQ(run(base + " --random --out " + (dir_ / "rnd.csv").string()), 0) << err();
  EXPECT_EQ(readCsv(dir_ / "rnd.csv").rows.size(), sam.rows.size());
}

TEST_F(WalkSampleToolTest, BadInputNamesTheFileLineAndColumn) {
  writeFile("bad.csv", "user_id,item_id,watch_time\n0,1,3\n1,2,oops\n");
  EXPECT_EQ(run("--exposures " + (dir_ / "bad.csv").string() + " --out " + (dir_ / "o.csv").string()), 1);
  EXPECT_NE(err().find("bad.csv:3: column 'watch_time': 'oops' is not a number"), std::string::npos) << err();
  EXPECT_FALSE(fs::exists(dir_ / "o.csv"));
  writeFile("nocol.csv", "user,item_id,watch_time\n0,1,3\n");
  EXPECT_EQ(run("--exposures " + (dir_ / "nocol.csv").string() + " --out " + (dir_ / "o.csv").string()), 1);
  EXPECT_NE(err().find("no column 'user_id' (the header has: user, item_id, watch_time)"), std::string::npos) << err();
  EXPECT_EQ(run("--exposures x --out y --radius 0"), 2);
  EXPECT_NE(err().find("'--radius'"), std::string::npos);
}

} // namespace
