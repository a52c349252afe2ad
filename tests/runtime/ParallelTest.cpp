// parallelChunks covers [0, n) exactly once in chunks of `grain`, on more than
// one thread when the team has two; ThreadLimit caps OpenMP's team and
// restores it.
#include "runtime/Parallel.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace recc::rt;

TEST(ParallelTest, ChunksCoverTheRangeOnce) {
  for (int64_t n : {0, 1, 63, 64, 65, 1000}) {
    std::vector<std::atomic<int>> seen(n);
    std::atomic<int> longChunks{0};
    parallelChunks(n, 64, [&](int64_t begin, int64_t end) {
      EXPECT_LT(begin, end);
      EXPECT_LE(end - begin, 64);
      if (end - begin == 64) ++longChunks;
      EXPECT_TRUE(begin % 64 == 0) << begin;
      for (int64_t i = begin; i < end; ++i) ++seen[i];
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "n = " << n << ", i = " << i;
    EXPECT_EQ(longChunks, n / 64) << n;
  }
}

TEST(ParallelTest, TwoThreadsShareTheChunks) {
  ThreadLimit limit(2);
  std::mutex m;
  std::set<int> threads;
  parallelChunks(64, 1, [&](int64_t, int64_t) {
    // Long enough that the second thread arrives before the first is done.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(m);
    threads.insert(omp_get_thread_num());
  });
  EXPECT_EQ(threads, (std::set<int>{0, 1}));
}

TEST(ParallelTest, ThreadLimitCapsAndRestoresOpenMp) {
  const int before = omp_get_max_threads();
  {
    ThreadLimit limit(1);
    EXPECT_EQ(omp_get_max_threads(), 1);
    std::set<int> threads;
    parallelChunks(8, 1, [&](int64_t, int64_t) { threads.insert(omp_get_thread_num()); });
    EXPECT_EQ(threads, std::set<int>{0});
  }
  EXPECT_EQ(omp_get_max_threads(), before);
  { ThreadLimit none(0); EXPECT_EQ(omp_get_max_threads(), before); }
}
