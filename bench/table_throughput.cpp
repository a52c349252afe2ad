// table_throughput: gather and update throughput of a dynamic table against a
// dense one at the same batch, measured side by side in one run, rounds
// interleaved (dense, then dynamic, per operation and round) so that drifts
// of a shared machine hit both alike.
//
// The dense table holds exactly the rows the ids use ([distinct, dim]); the
// dynamic table is declared with ZEUS's 10^8 rows and receives the same ids
// spread over them by a bijection, so both do the same work per id and differ
// only in how a row is found (an index into one buffer, or a hash lookup
// into paged records). A dense 10^8 x 32 table with Adagrad state (25.6 GB)
// would not fit this machine. Before timing, every id is touched once, so
// the dynamic table is measured holding its rows (the steady state of
// training); the first-touch pass (inserting and initializing each row) is
// timed separately.
//
//   table_throughput [--distinct 1000000] [--rows 100000000] [--dim 32]
//                    [--batch 1024] [--ids-per-row 11] [--rounds 7] [--steps 20]
#include "runtime/EmbeddingTable.h"
#include "runtime/Random.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace recc::rt;

namespace {

struct Options {
  int64_t distinct = 1'000'000, rows = 100'000'000, dim = 32, batch = 1024, idsPerRow = 11;
  int rounds = 7, steps = 20;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (flag == "--distinct") o.distinct = v;
    else if (flag == "--rows") o.rows = v;
    else if (flag == "--dim") o.dim = v;
    else if (flag == "--batch") o.batch = v;
    else if (flag == "--ids-per-row") o.idsPerRow = v;
    else if (flag == "--rounds") o.rounds = int(v);
    else if (flag == "--steps") o.steps = int(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return o;
}

double seconds(auto&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// The ids of step `s` as indices into the distinct set, uniform.
std::vector<int64_t> stepKeys(const Options& o, int s) {
  std::vector<int64_t> k(size_t(o.batch * o.idsPerRow));
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = int64_t(uniformAt(77 + s, i) * double(o.distinct));
  return k;
}

} // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  OptimizerSpec adagrad;
  adagrad.kind = "adagrad";
  adagrad.lr = 0.01;
  // An odd multiplier not divisible by 5 is a bijection modulo 10^k.
  auto spread = [&](int64_t k) { return int64_t((__int128)k * 99'999'989 % o.rows); };

  EmbeddingTable dense("dense", o.distinct, o.dim);
  initialize({"uniform", 0.05}, "dense", 42, dense.weights());
  EmbeddingTable dynamic =
      EmbeddingTable::dynamic("dynamic", o.rows, o.dim, {"uniform", 0.05}, 42, adagrad);

  const int64_t n = o.batch * o.idsPerRow;
  std::vector<float> rows(size_t(n * o.dim)), grads(size_t(n * o.dim));
  for (size_t i = 0; i < grads.size(); ++i)
    grads[i] = float(uniformAt(5, i) - 0.5) * 1e-3f;

  // First touch: every id once, in batches of n.
  std::vector<int64_t> all;
  double insert = 0;
  for (int64_t k = 0; k < o.distinct; k += n) {
    std::vector<int64_t> ids, denseIds;
    for (int64_t j = k; j < std::min(o.distinct, k + n); ++j)
      ids.push_back(spread(j)), denseIds.push_back(j);
    const EmbeddingTable::RowGradients src{ids, grads.data()}, dsrc{denseIds, grads.data()};
    insert += seconds([&] { dynamic.applyGradients({&src, 1}, adagrad, 1); });
    dense.applyGradients({&dsrc, 1}, adagrad, 1);
  }
  std::printf("first touch of %lld rows: %.3f s (%.2f M rows/s), dynamic table holds %lld rows, "
              "%.1f MB\n", (long long)o.distinct, insert, double(o.distinct) / insert / 1e6,
              (long long)dynamic.dynamicRows()->size(),
              double(dynamic.dynamicRows()->bytes()) / 1e6);

  std::vector<std::vector<int64_t>> denseIds(o.steps), dynIds(o.steps);
  for (int s = 0; s < o.steps; ++s) {
    denseIds[s] = stepKeys(o, s);
    for (int64_t k : denseIds[s])
      dynIds[s].push_back(spread(k));
  }
  // Per round: each operation on both tables back to back, the order
  // alternating between rounds; the ratio is taken within each round.
  std::vector<double> gD, gY, uD, uY, gR, uR;
  int64_t t = 2;
  for (int r = 0; r < o.rounds; ++r) {
    auto gatherDense = [&] { for (auto& ids : denseIds) dense.gather(ids, rows.data()); };
    auto gatherDyn = [&] { for (auto& ids : dynIds) dynamic.gather(ids, rows.data()); };
    auto update = [&](EmbeddingTable& table, std::vector<std::vector<int64_t>>& batches) {
      return [&, t0 = t] {
        for (int s = 0; s < o.steps; ++s) {
          const EmbeddingTable::RowGradients src{batches[s], grads.data()};
          table.applyGradients({&src, 1}, adagrad, t0 + s);
        }
      };
    };
    if (r % 2 == 0) {
      gD.push_back(seconds(gatherDense));
      gY.push_back(seconds(gatherDyn));
      uD.push_back(seconds(update(dense, denseIds)));
      uY.push_back(seconds(update(dynamic, dynIds)));
    } else {
      gY.push_back(seconds(gatherDyn));
      gD.push_back(seconds(gatherDense));
      uY.push_back(seconds(update(dynamic, dynIds)));
      uD.push_back(seconds(update(dense, denseIds)));
    }
    gR.push_back(gY.back() / gD.back());
    uR.push_back(uY.back() / uD.back());
    t += o.steps;
  }
  const double ids = double(n) * o.steps;
  auto line = [&](const char* what, double d, double y, double ratio) {
    std::printf("%-7s dense %7.2f M ids/s  dynamic %7.2f M ids/s  dynamic/dense time %.2fx "
                "(median of per-round ratios)\n", what, ids / d / 1e6, ids / y / 1e6, ratio);
  };
  std::printf("batch %lld x %lld ids, dim %lld, adagrad, %d rounds x %d steps (medians):\n",
              (long long)o.batch, (long long)o.idsPerRow, (long long)o.dim, o.rounds, o.steps);
  line("gather", median(gD), median(gY), median(gR));
  line("update", median(uD), median(uY), median(uR));
  return 0;
}
