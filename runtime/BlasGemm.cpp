// BlasGemm: see the header.
#include "runtime/BlasGemm.h"

#include "runtime/Error.h"

#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <mutex>

namespace recc::rt {
namespace {

using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                         int, float, float*, int);

struct OpenBlas {
  SgemmFn sgemm = nullptr;
  void (*setThreads)(int) = nullptr;
  char* (*coreName)() = nullptr;
};

bool cpuHas(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line.find(" " + flag + " ") != std::string::npos ||
                                             line.ends_with(" " + flag);
  return false;
}

const OpenBlas& openBlas() {
  static OpenBlas blas;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* core = cpuHas("avx512f") ? "SkylakeX" : cpuHas("avx2") ? "Haswell" : nullptr;
    if (core) setenv("OPENBLAS_CORETYPE", core, /*overwrite=*/0);
    void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    blas.sgemm = (SgemmFn)dlsym(h, "cblas_sgemm");
    blas.setThreads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    blas.coreName = (char* (*)())dlsym(h, "openblas_get_corename");
    if (blas.setThreads) blas.setThreads(1);
  });
  return blas;
}

void openBlasGemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t d) {
  // Row-major C[m,n] = A[m,d] · B[n,d]ᵀ.
  openBlas().sgemm(101, 111, 112, int(m), int(n), int(d), 1.f, a, int(d), b, int(d), 0.f, c,
                   int(n));
}

} // namespace

ScoreGemm openBlasScoreGemm() { return openBlas().sgemm ? openBlasGemm : nullptr; }

std::string openBlasDescription() {
  const OpenBlas& b = openBlas();
  if (!b.sgemm) return "OpenBLAS not found (libopenblas.so.0)";
  return std::string("OpenBLAS, core ") + (b.coreName ? b.coreName() : "?");
}

void setOpenBlasThreads(int threads) {
  if (openBlas().setThreads) openBlas().setThreads(threads);
}

ScoreGemm scoreGemm(const std::string& name) {
  if (name == "eigen") return eigenScoreGemm;
  ScoreGemm blas = openBlasScoreGemm();
  if (name == "openblas") {
    if (!blas) fail("--gemm openblas: {}", openBlasDescription());
    return blas;
  }
  if (name == "auto") return blas ? blas : eigenScoreGemm;
  fail("unknown score GEMM '{}' (expected eigen, openblas or auto)", name);
}

} // namespace recc::rt
