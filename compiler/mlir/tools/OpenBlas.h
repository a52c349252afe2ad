// OpenBlas: OpenBLAS's SGEMM loaded with dlopen, for the microbenchmarks that
// compare the MLIR backend's kernels with it in the same run (gemm_bench,
// bmm_bench). Nothing of recc links OpenBLAS; without it the tools say so.
#pragma once

#include <cstdlib>
#include <dlfcn.h>
#include <string>

namespace recc::bench {

/// The core type a benchmark asks OpenBLAS for: SkylakeX (AVX-512, about 2x
/// the Haswell kernel) where the CPU has AVX-512, else none, so OpenBLAS picks
/// its own for the CPU (the environment may pin an older one; benchmarks set
/// this instead and print which kernel ran).
inline std::string fastestCoreType() {
  return __builtin_cpu_supports("avx512f") ? "SkylakeX" : "";
}

struct OpenBlas {
  using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                           int, float, float*, int);
  SgemmFn sgemm = nullptr;
  void (*setThreads)(int) = nullptr;
  char* (*coreName)() = nullptr;

  /// Loads libopenblas.so.0 with OPENBLAS_CORETYPE=coreType (none if empty);
  /// an OPENBLAS_CORETYPE already in the environment wins unless `overwrite`.
  OpenBlas(const std::string& coreType, bool overwrite) {
    if (!coreType.empty()) setenv("OPENBLAS_CORETYPE", coreType.c_str(), overwrite ? 1 : 0);
    else if (overwrite) unsetenv("OPENBLAS_CORETYPE");
    void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    sgemm = (SgemmFn)dlsym(h, "cblas_sgemm");
    setThreads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
    coreName = (char* (*)())dlsym(h, "openblas_get_corename");
  }

  /// Row-major C[m,n] = op(A)·op(B).
  void gemm(bool ta, bool tb, long m, long n, long k, const float* a, const float* b,
            float* c) const {
    sgemm(101, ta ? 112 : 111, tb ? 112 : 111, (int)m, (int)n, (int)k, 1.f, a,
          ta ? (int)m : (int)k, b, tb ? (int)k : (int)n, 0.f, c, (int)n);
  }
};

}  // namespace recc::bench
