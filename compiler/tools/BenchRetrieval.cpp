// BenchRetrieval: `recc bench-retrieval` — the scoring half of retrieval
// (runtime/TopK.h) on random vectors: an exact top-K of a corpus for many
// users, timed per score GEMM (Eigen, OpenBLAS), next to the same blocked
// GEMMs without the selection and the machine's SGEMM (OpenBLAS, 1024³, on
// all the threads) measured in the same run. bench/run_retrieval.sh sets it
// beside the PyTorch peer (matmul + topk).
#include "compiler/tools/BenchRetrieval.h"

#include "runtime/BlasGemm.h"
#include "runtime/CliChecks.h"
#include "runtime/Parallel.h"
#include "runtime/TopK.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>

namespace recc {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> normal(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d;
  for (float& x : v) x = d(rng);
  return v;
}

template <typename F>
std::vector<double> timeRuns(int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    auto start = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return t;
}

nlohmann::json summary(std::vector<double> t, double gflop) {
  std::sort(t.begin(), t.end());
  const double median = t[t.size() / 2];
  return {{"seconds", t}, {"median_seconds", median}, {"min_seconds", t.front()},
          {"max_seconds", t.back()}, {"gflops", gflop / median}};
}

/// The GEMMs of topKByDot's blocking alone: query blocks over TBB, item chunks in turn.
void blockedGemmOnly(const float* q, int64_t m, const float* items, int64_t n, int64_t d,
                     const rt::TopKOptions& o) {
  const int64_t blocks = (m + o.queryBlock - 1) / o.queryBlock;
  tbb::parallel_for(int64_t(0), blocks, [&](int64_t b) {
    const int64_t q0 = b * o.queryBlock, rows = std::min(m, q0 + o.queryBlock) - q0;
    std::vector<float> scores(static_cast<size_t>(rows * o.itemChunk));
    for (int64_t c0 = 0; c0 < n; c0 += o.itemChunk)
      o.gemm(q + q0 * d, items + c0 * d, scores.data(), rows, std::min(o.itemChunk, n - c0), d);
  });
}

/// OpenBLAS SGEMM 1024³ on `threads` threads, best of `reps` (GFLOP/s), 0 without it.
double machineSgemm(int threads, int reps) {
  rt::ScoreGemm g = rt::openBlasScoreGemm();
  if (!g) return 0;
  const int64_t n = 1024;
  std::vector<float> a = normal(n * n, 1), b = normal(n * n, 2), c(static_cast<size_t>(n * n));
  rt::setOpenBlasThreads(threads);
  g(a.data(), b.data(), c.data(), n, n, n);
  std::vector<double> t = timeRuns(reps, [&] { g(a.data(), b.data(), c.data(), n, n, n); });
  rt::setOpenBlasThreads(1);
  return 2.0 * n * n * n / *std::min_element(t.begin(), t.end()) / 1e9;
}

} // namespace

void addBenchRetrievalFlags(CLI::App& cmd, BenchRetrievalArgs& a) {
  cmd.add_option("--items", a.items, "corpus size")->check(rt::intRange(1, 1 << 30));
  cmd.add_option("--users", a.users, "users (queries)")->check(rt::intRange(1, 1 << 24));
  cmd.add_option("--dim", a.dim, "vector width")->check(rt::intRange(1, 4096));
  cmd.add_option("--k", a.k, "list length")->check(rt::intRange(1, 1 << 20));
  cmd.add_option("--threads", a.threads, "threads")->check(rt::intRange(1, rt::kMaxThreads));
  cmd.add_option("--reps", a.reps, "timed runs of each")->check(rt::intRange(1, 1000));
  cmd.add_option("--gemm", a.gemms, "score GEMMs to time: eigen, openblas")
      ->delimiter(',')
      ->check(CLI::IsMember(std::vector<std::string>{"eigen", "openblas"}));
  cmd.add_option("--query-block", a.queryBlock, "queries per GEMM block")
      ->check(rt::intRange(1, 1 << 20));
  cmd.add_option("--item-chunk", a.itemChunk, "items per GEMM block")
      ->check(rt::intRange(1, 1 << 24));
  cmd.add_option("--json", a.json, "write the results as JSON");
}

int runBenchRetrieval(const BenchRetrievalArgs& a) {
  rt::ThreadLimit limit(a.threads);
  std::vector<float> users = normal(a.users * a.dim, 7), items = normal(a.items * a.dim, 8);
  const double gflop = 2.0 * double(a.users) * double(a.items) * double(a.dim) / 1e9;
  nlohmann::json j = {{"items", a.items}, {"users", a.users}, {"dim", a.dim}, {"k", a.k},
                      {"threads", a.threads}, {"reps", a.reps}, {"query_block", a.queryBlock},
                      {"item_chunk", a.itemChunk}, {"openblas", rt::openBlasDescription()}};
  j["sgemm_gflops"] = machineSgemm(a.threads, 10);
  fmt::print("top-{} of {} items for {} users, d = {}, {} threads ({:.1f} GFLOP per run)\n", a.k,
             a.items, a.users, a.dim, a.threads, gflop);
  fmt::print("{}; SGEMM 1024^3 on {} threads: {:.1f} GFLOP/s\n", rt::openBlasDescription(),
             a.threads, j["sgemm_gflops"].get<double>());
  for (const std::string& name : a.gemms) {
    rt::TopKOptions o{.k = a.k, .gemm = rt::scoreGemm(name), .queryBlock = a.queryBlock,
                      .itemChunk = a.itemChunk};
    rt::topKByDot(users.data(), std::min<int64_t>(a.users, 256), items.data(), a.items, a.dim, o);
    auto topk = timeRuns(a.reps, [&] {
      rt::topKByDot(users.data(), a.users, items.data(), a.items, a.dim, o);
    });
    auto gemm = timeRuns(a.reps, [&] {
      blockedGemmOnly(users.data(), a.users, items.data(), a.items, a.dim, o);
    });
    j["topk"][name] = summary(topk, gflop);
    j["gemm_only"][name] = summary(gemm, gflop);
    const auto& t = j["topk"][name];
    fmt::print("{:<9} top-k {:.3f} s (range {:.3f}-{:.3f}), {:.1f} GFLOP/s; its GEMMs alone "
               "{:.3f} s, {:.1f} GFLOP/s\n",
               name, t["median_seconds"].get<double>(), t["min_seconds"].get<double>(),
               t["max_seconds"].get<double>(), t["gflops"].get<double>(),
               j["gemm_only"][name]["median_seconds"].get<double>(),
               j["gemm_only"][name]["gflops"].get<double>());
  }
  if (!a.json.empty()) std::ofstream(a.json) << j.dump(2) << "\n";
  return 0;
}

} // namespace recc
