// BlasGemm: OpenBLAS's SGEMM as a score GEMM for TopK, loaded with dlopen
// where libopenblas.so.0 exists (nothing links it). Retrieval runs many
// small GEMMs side by side on its own threads, so OpenBLAS is told to use
// one thread per call. Its core type is named by the CPU's flags
// (OPENBLAS_CORETYPE: SkylakeX with AVX-512, Haswell with AVX2, unless the
// environment names one): OpenBLAS 0.3.21 falls back to SSE kernels on CPUs
// it does not know. (The benchmarks' peers probe every candidate instead and
// run the fastest correct one: bench/torch_common.py.)
#pragma once

#include "runtime/TopK.h"

#include <string>

namespace recc::rt {

/// OpenBLAS's score GEMM, or null when the library is not there.
ScoreGemm openBlasScoreGemm();
/// "OpenBLAS <core>" or why it is not available.
std::string openBlasDescription();
/// Sets OpenBLAS's own thread count (for a whole-machine SGEMM measurement).
void setOpenBlasThreads(int threads);

/// The score GEMM retrieval uses: "eigen", "openblas", or "auto" (OpenBLAS
/// where it loads, else Eigen; the faster here, see bench/README.md).
ScoreGemm scoreGemm(const std::string& name);

} // namespace recc::rt
