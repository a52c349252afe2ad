#include "runtime/Parallel.h"

#include <omp.h>

#include <algorithm>

namespace recc::rt {

void runChunks(int64_t n, int64_t grain, void (*call)(const void*, int64_t, int64_t),
               const void* body) {
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks <= 1) {
    if (n > 0) call(body, 0, n);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t c = 0; c < chunks; ++c)
    call(body, c * grain, std::min(n, (c + 1) * grain));
}

ThreadLimit::ThreadLimit(int threads) {
  if (threads <= 0) return;
  Tbb.emplace(tbb::global_control::max_allowed_parallelism, (size_t)threads);
  PreviousOmp = omp_get_max_threads();
  omp_set_num_threads(threads);
}

ThreadLimit::~ThreadLimit() {
  if (PreviousOmp > 0) omp_set_num_threads(PreviousOmp);
}

} // namespace recc::rt
