// gemm_bench: GFLOP/s of the MLIR backend's GEMMs at the shapes of ESM²'s
// dense training step (batch 1000; widths 696→512→256→128), side by side in
// one run with OpenBLAS SGEMM (loaded with dlopen if present) and with the
// naive lowering (convert-linalg-to-loops, no tiling/vectorization).
//
//   recc_gemm_bench [--reps N] [--no-naive] [--threads 1|2|both]
//                   [--shape MxNxK[ta][tb]]... [--openblas-coretype NAME]
//
// Each shape is a one-node graph `y = matmul(a, b)` with the transpose flags of
// the gradient it stands for, compiled by compileJit. `--shape 512x512x256tb`
// times other shapes instead (`ta`: A stored [K,M]; `tb`: B stored [N,K]).
// OpenBLAS runs its fastest kernel for the CPU (SkylakeX on AVX-512, else its
// own detection; an OPENBLAS_CORETYPE pin in the environment is overridden),
// and the tool prints which kernel ran.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/tools/OpenBlas.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace recc;
using recc::bench::OpenBlas;

namespace {

struct GemmShape {
  std::string name;
  int64_t m, n, k;
  bool ta, tb;
};

// C[m,n] = op(A)·op(B); A is stored [k,m] when ta, B is stored [n,k] when tb.
const GemmShape kShapes[] = {
    {"fwd 1000x512x696", 1000, 512, 696, false, false},
    {"fwd 1000x256x512", 1000, 256, 512, false, false},
    {"fwd 1000x128x256", 1000, 128, 256, false, false},
    {"wgrad A'dC 696x512x1000", 696, 512, 1000, true, false},
    {"wgrad A'dC 512x256x1000", 512, 256, 1000, true, false},
    {"dgrad dCW' 1000x696x512", 1000, 696, 512, false, true},
    {"dgrad dCW' 1000x512x256", 1000, 512, 256, false, true},
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Best time of max(reps, 1) calls (reps > 0: after one warm-up call).
template <typename F>
double bestTime(int reps, F&& f) {
  if (reps > 0) f();
  double best = 1e30;
  for (int r = 0; r < std::max(reps, 1); ++r) {
    double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

/// Sleeps until idle threads of the last library to run (OpenBLAS's, the
/// JIT's OpenMP team) have stopped spinning and gone to sleep.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

Graph gemmGraph(const GemmShape& s) {
  Graph g;
  std::vector<int64_t> as = s.ta ? std::vector<int64_t>{s.k, s.m} : std::vector<int64_t>{s.m, s.k};
  std::vector<int64_t> bs = s.tb ? std::vector<int64_t>{s.n, s.k} : std::vector<int64_t>{s.k, s.n};
  NodeId a = g.add(OpKind::Input, {}, {{"shape", as}}, {}, "a");
  NodeId b = g.add(OpKind::Input, {}, {{"shape", bs}}, {}, "b");
  g.node(a).shape = Shape(as);
  g.node(b).shape = Shape(bs);
  g.addInput(a, ValueRole::Feature, "a");
  g.addInput(b, ValueRole::Feature, "b");
  NodeId c = g.add(OpKind::MatMul, {a, b}, {{"transpose_a", (int64_t)s.ta}, {"transpose_b", (int64_t)s.tb}});
  g.node(c).shape = Shape{s.m, s.n};
  g.addOutput(c, ValueRole::Output, "c");
  g.markForwardEnd();
  return g;
}

/// "MxNxK" with optional "ta"/"tb" suffixes, e.g. 512x512x256tb.
bool parseShape(const std::string& text, GemmShape& s) {
  long m = 0, n = 0, k = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%ldx%ldx%ld%n", &m, &n, &k, &used) != 3 || m <= 0 || n <= 0 ||
      k <= 0)
    return false;
  std::string rest = text.substr(used);
  s = {text, m, n, k, rest.find("ta") != std::string::npos, rest.find("tb") != std::string::npos};
  return rest == "" || rest == "ta" || rest == "tb" || rest == "tatb";
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  bool naive = true;
  std::vector<int> threadList{1, 2};
  std::vector<GemmShape> shapes;
  std::string coreType = recc::bench::fastestCoreType();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-naive")) naive = false;
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      std::string t = argv[++i];
      threadList = t == "both" ? std::vector<int>{1, 2} : std::vector<int>{std::atoi(t.c_str())};
    } else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      GemmShape s;
      if (!parseShape(argv[++i], s)) {
        std::fprintf(stderr, "error: --shape: expected MxNxK[ta][tb], got '%s'\n", argv[i]);
        return 2;
      }
      shapes.push_back(s);
    } else if (!std::strcmp(argv[i], "--openblas-coretype") && i + 1 < argc) {
      coreType = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--reps N] [--no-naive] [--threads 1|2|both] "
                   "[--shape MxNxK[ta][tb]]... [--openblas-coretype NAME]\n",
                   argv[0]);
      return 2;
    }
  }
  if (shapes.empty()) shapes.assign(std::begin(kShapes), std::end(kShapes));
  OpenBlas blas(coreType, /*overwrite=*/true);
  std::printf("OpenBLAS: %s (OPENBLAS_CORETYPE=%s)\n",
              blas.sgemm ? (blas.coreName ? blas.coreName() : "loaded")
                         : "not found (libopenblas.so.0)",
              coreType.empty() ? "unset" : coreType.c_str());
  std::printf("%-26s %3s %9s %9s %9s %7s %9s\n", "shape (MxNxK)", "thr", "mlir", "openblas",
              "naive", "ratio", "compile");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const GemmShape& s : shapes) {
    Graph g = gemmGraph(s);
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c(s.m * s.n), ref(s.m * s.n);
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    float* bufs[] = {a.data(), b.data(), c.data()};
    double gflop = 2.0 * s.m * s.n * s.k * 1e-9;
    double naiveRate = 0;
    if (naive) {
      CodegenOptions o;
      o.vectorize = false;
      auto step = compileJit(g, 1, o);
      naiveRate = gflop / bestTime(1, [&] { step->run(1, bufs); });
    }
    for (int threads : threadList) {
      CodegenOptions o;
      o.threads = threads;
      double t0 = now();
      auto step = compileJit(g, 1, o);
      double compile = now() - t0;
      auto mlirCall = [&] { step->run(1, bufs); };
      auto blasCall = [&] {
        blas.sgemm(101, s.ta ? 112 : 111, s.tb ? 112 : 111, (int)s.m, (int)s.n, (int)s.k, 1.f,
                   a.data(), s.ta ? (int)s.m : (int)s.k, b.data(), s.tb ? (int)s.k : (int)s.n,
                   0.f, ref.data(), (int)s.n);
      };
      if (blas.sgemm) blas.setThreads(threads);
      // Alternating blocks of runs, best of `reps` each: load from other
      // processes hits both. Each block follows a pause long enough for the
      // other library's idle threads to stop spinning (libomp's 200 ms
      // KMP_BLOCKTIME; OpenBLAS's workers spin about 0.1 s): run by run, an
      // OpenBLAS worker spinning beside the two OpenMP threads halved some
      // two-thread rates (512x300x192: 88 against 181 GFLOP/s).
      double mlirBest = 1e30, blasBest = 1e30;
      mlirCall();
      if (blas.sgemm) blasCall();
      const int blocks = std::min(reps, 4);
      for (int r = 0; r < blocks; ++r) {
        int runs = reps / blocks + (r < reps % blocks);
        settle();
        mlirBest = std::min(mlirBest, bestTime(runs, mlirCall));
        if (!blas.sgemm) continue;
        settle();
        blasBest = std::min(blasBest, bestTime(runs, blasCall));
      }
      double mlirRate = gflop / mlirBest, blasRate = blas.sgemm ? gflop / blasBest : 0;
      double maxErr = 0;
      if (blas.sgemm)
        for (size_t i = 0; i < c.size(); ++i)
          maxErr = std::max(maxErr, (double)std::fabs(c[i] - ref[i]));
      std::printf("%-26s %3d %9.1f %9.1f %9.1f %6.0f%% %8.2fs%s\n", s.name.c_str(), threads, mlirRate,
                  blasRate, naiveRate, blasRate > 0 ? 100 * mlirRate / blasRate : 0, compile,
                  maxErr > 1e-2 ? "  MISMATCH vs OpenBLAS" : "");
    }
  }
  std::printf("(GFLOP/s; best of %d runs; ratio = mlir / openblas at the same thread count)\n",
              reps);
  return 0;
}
