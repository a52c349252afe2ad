// Random: counter-based random numbers for everything the runtime must make
// reproducible (initial weights, epoch shuffles, step seeds). Each value is a
// pure function of (key, index), so results do not depend on the thread count
// or on the standard library (std:: distributions differ between vendors).
#pragma once

#include <cstdint>
#include <string_view>

namespace recc::rt {

/// SplitMix64 finalizer: a bijective 64-bit mix with good avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Combines a key with another value (order matters).
constexpr uint64_t combine(uint64_t key, uint64_t value) {
  return mix64(key ^ mix64(value));
}

/// FNV-1a of a string, stable across platforms (unlike std::hash).
constexpr uint64_t hashString(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// The `index`-th uniform double in [0, 1) of stream `key` (53 random bits).
inline double uniformAt(uint64_t key, uint64_t index) {
  return static_cast<double>(combine(key, index) >> 11) * 0x1.0p-53;
}

} // namespace recc::rt
