// bmm_bench: GFLOP/s of the MLIR backend's batch_matmul at the shapes the
// shipped models build — SAR-Net's DIN units, ZEUS's multi-head attention,
// MIND's capsules — forward and gradients, side by side in one run with
// OpenBLAS on the same shapes.
//
//   recc_bmm_bench [--reps N] [--threads N] [--openblas-coretype NAME]
//
// What OpenBLAS runs for each case is what a user of it would write:
//  - one weight at every position ([B,L,k]·[k,n], and its data gradient): one
//    SGEMM over the B·L flattened rows;
//  - the weight gradient Σ_b x_bᵀ·dy_b (batch_matmul with transpose_a, then
//    sum_to, as autodiff builds it): one SGEMM with Aᵀ over the flattened rows;
//  - per-sample products (attention scores, capsule routing): one SGEMM per
//    matrix, the batch split over the threads (OpenBLAS itself one-threaded).
// OpenBLAS gets its fastest kernel for the CPU (SkylakeX where AVX-512 exists,
// whatever OPENBLAS_CORETYPE the environment pins) unless told otherwise, and
// every result of both sides is checked against a double-precision product.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/tools/OpenBlas.h"
#include "compiler/passes/ShapeInference.h"
#include "dsl/Diagnostics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace recc;
using recc::bench::OpenBlas;

namespace {

enum class Form { SharedWeight, WeightGrad, PerSample };

/// y[lead..., m, n] = op(A)·op(B); `lead` are the leading axes of A (and of B
/// unless the form shares one 2-D B), the first of them the batch.
struct Case {
  const char* name;
  Form form;
  std::vector<int64_t> lead;  // leading axes, batch first (concrete)
  int64_t m, n, k;
  bool ta, tb;
};

// Batch sizes are the models' own (train { batch = ... }).
const Case kCases[] = {
    // SAR-Net / DIN attention unit: [B,50,128] -> 80 -> 40 (B = 2048).
    {"din fwd [B,50,128]x[128,80]", Form::SharedWeight, {2048}, 50, 80, 128, false, false},
    {"din dgrad [B,50,80]x[128,80]'", Form::SharedWeight, {2048}, 50, 128, 80, false, true},
    {"din wgrad sum_b x'dy 128x80", Form::WeightGrad, {2048}, 128, 80, 50, true, false},
    // ZEUS encoder, B = 1024, L = 10, 8 heads of 16: projection and attention.
    {"zeus proj [B,10,128]x[128,128]", Form::SharedWeight, {1024}, 10, 128, 128, false, false},
    {"zeus wgrad sum_b x'dy 128x128", Form::WeightGrad, {1024}, 128, 128, 10, true, false},
    {"zeus QK' [B,8,10,16]", Form::PerSample, {1024, 8}, 10, 10, 16, false, true},
    {"zeus AV [B,8,10,10]x[.,10,16]", Form::PerSample, {1024, 8}, 10, 16, 10, false, false},
    // MIND, B = 512, 50 behaviours of 64, 4 interests.
    {"mind u_hat [B,50,64]x[64,64]", Form::SharedWeight, {512}, 50, 64, 64, false, false},
    {"mind routing [B,4,50]x[B,50,64]", Form::PerSample, {512}, 4, 64, 50, false, false},
    {"mind logits [B,4,64]x[B,50,64]'", Form::PerSample, {512}, 4, 50, 64, false, true},
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (auto d : v) p *= d;
  return p;
}

/// Shapes of A and B as stored (transposes in the last two axes).
std::vector<int64_t> aShape(const Case& c) {
  std::vector<int64_t> s = c.lead;
  if (c.form == Form::WeightGrad) s.push_back(c.k), s.push_back(c.m);  // x [B,L,k]: ᵀ gives k×L
  else if (c.ta) s.push_back(c.k), s.push_back(c.m);
  else s.push_back(c.m), s.push_back(c.k);
  return s;
}
std::vector<int64_t> bShape(const Case& c) {
  std::vector<int64_t> s = c.form == Form::SharedWeight ? std::vector<int64_t>{} : c.lead;
  if (c.tb) s.push_back(c.n), s.push_back(c.k);
  else s.push_back(c.k), s.push_back(c.n);
  return s;
}

/// The graph autodiff would build: batch_matmul (then sum_to for a weight
/// gradient), the batch axis symbolic.
Graph caseGraph(const Case& c) {
  auto symbolic = [](std::vector<int64_t> s) { s[0] = kBatchDim; return s; };
  Graph g;
  std::vector<int64_t> as = symbolic(aShape(c)), bs = bShape(c);
  if (c.form != Form::SharedWeight) bs = symbolic(bs);
  NodeId a = g.add(OpKind::Input, {}, {{"shape", as}}, {}, "a");
  NodeId b = g.add(OpKind::Input, {}, {{"shape", bs}}, {}, "b");
  g.addInput(a, ValueRole::Feature, "a");
  g.addInput(b, ValueRole::Feature, "b");
  NodeId y = g.add(OpKind::BatchMatMul, {a, b},
                   {{"transpose_a", (int64_t)c.ta}, {"transpose_b", (int64_t)c.tb}});
  if (c.form == Form::WeightGrad) {
    NodeId like = g.add(OpKind::Constant, {}, {{"shape", std::vector<int64_t>{c.m, c.n}}, {"value", 0.0}});
    y = g.add(OpKind::SumTo, {y, like});
  }
  g.addOutput(y, ValueRole::Output, "y");
  g.markForwardEnd();
  DiagnosticEngine diag;
  if (!inferShapes(g, diag)) {
    std::fprintf(stderr, "%s", diag.render().c_str());
    std::exit(1);
  }
  return g;
}

/// Sizes of one case in elements: matrices, and per-matrix extents.
struct Sizes {
  int64_t mats, a, b, y;
};
Sizes sizesOf(const Case& c) {
  int64_t mats = product(c.lead);
  Sizes s{mats, mats * c.m * c.k, 0, 0};
  if (c.form == Form::WeightGrad) s.a = mats * c.k * c.m;
  s.b = c.form == Form::SharedWeight ? c.k * c.n : mats * c.k * c.n;
  s.y = c.form == Form::WeightGrad ? c.m * c.n : mats * c.m * c.n;
  return s;
}

/// OpenBLAS on the case, as a user would call it (see the file comment).
void runBlas(const OpenBlas& blas, const Case& c, const float* a, const float* b, float* y,
             int threads) {
  Sizes s = sizesOf(c);
  if (c.form == Form::SharedWeight) {
    blas.gemm(false, c.tb, s.mats * c.m, c.n, c.k, a, b, y);
    return;
  }
  if (c.form == Form::WeightGrad) {  // [B·L,k]ᵀ · [B·L,n]
    blas.gemm(true, false, c.m, c.n, s.mats * c.k, a, b, y);
    return;
  }
  auto part = [&](int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i)
      blas.gemm(c.ta, c.tb, c.m, c.n, c.k, a + i * c.m * c.k, b + i * c.k * c.n, y + i * c.m * c.n);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(part, s.mats * t / threads, s.mats * (t + 1) / threads);
  part(0, s.mats / threads);
  for (auto& th : pool) th.join();
}

/// The case in double precision, straight loops: the oracle for both sides.
std::vector<double> reference(const Case& c, const std::vector<float>& a,
                              const std::vector<float>& b) {
  Sizes s = sizesOf(c);
  std::vector<double> y(s.y, 0.0);
  int64_t mats = c.form == Form::PerSample ? s.mats : 1;
  int64_t m = c.form == Form::SharedWeight ? s.mats * c.m : c.m;
  int64_t k = c.form == Form::WeightGrad ? s.mats * c.k : c.k;
  bool ta = c.form == Form::WeightGrad || c.ta;
  for (int64_t x = 0; x < mats; ++x) {
    const float* ax = a.data() + x * m * k;
    const float* bx = b.data() + (c.form == Form::PerSample ? x * k * c.n : 0);
    double* yx = y.data() + x * m * c.n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p) {
        double av = ta ? ax[p * m + i] : ax[i * k + p];
        for (int64_t j = 0; j < c.n; ++j)
          yx[i * c.n + j] += av * (c.tb ? bx[j * k + p] : bx[p * c.n + j]);
      }
  }
  return y;
}

double maxRelError(const std::vector<float>& got, const std::vector<double>& want) {
  double scale = 1e-30, err = 0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); ++i) err = std::max(err, std::fabs(got[i] - want[i]));
  return err / scale;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 15, threads = 2;
  std::string coreType = recc::bench::fastestCoreType();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--openblas-coretype") && i + 1 < argc) coreType = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--threads N] [--openblas-coretype NAME]\n", argv[0]);
      return 2;
    }
  }
  OpenBlas blas(coreType, /*overwrite=*/true);
  if (!blas.sgemm) {
    std::fprintf(stderr, "error: OpenBLAS (libopenblas.so.0) not found\n");
    return 1;
  }
  std::printf("OpenBLAS kernel: %s (OPENBLAS_CORETYPE=%s), %d threads\n",
              blas.coreName ? blas.coreName() : "?", coreType.empty() ? "unset" : coreType.c_str(),
              threads);
  std::printf("%-34s %9s %9s %7s %11s %11s\n", "case", "mlir", "openblas", "ratio", "err mlir",
              "err blas");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  bool allCorrect = true;
  for (const Case& c : kCases) {
    Sizes s = sizesOf(c);
    std::vector<float> a(s.a), b(s.b), y(s.y), yb(s.y);
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    CodegenOptions o;
    o.threads = threads;
    auto step = compileJit(caseGraph(c), c.lead[0], o);
    float* bufs[] = {a.data(), b.data(), y.data()};
    auto mlirCall = [&] { step->run(c.lead[0], bufs); };
    blas.setThreads(c.form == Form::PerSample ? 1 : threads);
    auto blasCall = [&] { runBlas(blas, c, a.data(), b.data(), yb.data(), threads); };
    mlirCall();
    blasCall();
    // Interleaved, best of `reps` each, so load from elsewhere hits both.
    double mlirBest = 1e30, blasBest = 1e30;
    for (int r = 0; r < reps; ++r) {
      double t0 = now();
      mlirCall();
      mlirBest = std::min(mlirBest, now() - t0);
      t0 = now();
      blasCall();
      blasBest = std::min(blasBest, now() - t0);
    }
    std::vector<double> want = reference(c, a, b);
    double errM = maxRelError(y, want), errB = maxRelError(yb, want);
    bool ok = errM < 1e-4 && errB < 1e-4;
    allCorrect &= ok;
    double gflop = 2.0 * s.mats * c.m * c.n * c.k * 1e-9;
    std::printf("%-34s %9.1f %9.1f %6.0f%% %11.1e %11.1e%s\n", c.name, gflop / mlirBest,
                gflop / blasBest, 100 * blasBest / mlirBest, errM, errB, ok ? "" : "  WRONG");
  }
  std::printf("(GFLOP/s, best of %d interleaved runs; ratio = mlir / openblas; errors are the "
              "largest difference from a double-precision product, relative to its largest "
              "entry)\n", reps);
  return allCorrect ? 0 : 1;
}
