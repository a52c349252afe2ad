// Software prefetch for the runtime's loops over table rows (gathers, sparse
// optimizer updates, EMA shadows). A table's rows lie scattered over memory
// far larger than the cache, so each row of such a loop is a few cache misses
// in a row; asking for the rows a few places ahead overlaps those misses with
// the work on the rows before them.
#pragma once

#include <cstdint>

namespace recc::rt {

/// How many rows ahead the row loops prefetch.
constexpr int64_t kPrefetchAhead = 8;

/// Asks for every cache line of the n floats at p, to read them or, with
/// `write`, to update them.
template <bool write = false>
inline void prefetchRow(const float* p, int64_t n) {
  for (int64_t e = 0; e < n; e += 64 / int64_t(sizeof(float)))
    __builtin_prefetch(p + e, write ? 1 : 0);
}

} // namespace recc::rt
