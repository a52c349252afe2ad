// Parallel loops for the runtime's work inside a training step (embedding
// gathers, sparse and dense optimizer updates), and the cap on worker threads.
//
// These loops run on OpenMP, on the same libomp team as the compiled step's
// two-thread kernels (GCC's GOMP calls resolve to libomp, which implements
// them). Between kernels libomp's worker spins for KMP_BLOCKTIME (200 ms), so
// a loop on TBB's pool found that worker holding the second core: in a UMA²
// step TBB's worker ran under 1% of the samples while the main thread did the
// whole sparse Adam update alone (perf, 2 cores). On the team, the spinning
// worker takes its share at once.
#pragma once

#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <optional>

namespace recc::rt {

/// parallelChunks' loop, compiled once in Parallel.cpp (with -fopenmp: a
/// pragma in a header would run serially in any file built without it).
void runChunks(int64_t n, int64_t grain, void (*call)(const void*, int64_t, int64_t),
               const void* body);

/// Calls body(begin, end) on consecutive chunks of [0, n), each `grain` long
/// (the last one shorter), on the OpenMP team's threads; one chunk runs on
/// the calling thread alone. `body` must not throw.
template <class Body>
void parallelChunks(int64_t n, int64_t grain, const Body& body) {
  runChunks(n, grain, [](const void* b, int64_t begin, int64_t end) {
    (*static_cast<const Body*>(b))(begin, end);
  }, &body);
}

/// Caps the threads of TBB (the data reader, evaluation, sorting) and of
/// OpenMP (the compiled step and the loops above) at `threads` while it
/// lives; 0 or less caps nothing.
class ThreadLimit {
public:
  explicit ThreadLimit(int threads);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;

private:
  std::optional<tbb::global_control> Tbb;
  int PreviousOmp = 0;
};

} // namespace recc::rt
