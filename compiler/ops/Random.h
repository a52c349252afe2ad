// Random: the counter-based hash behind dropout. A mask element is a pure
// function of (seed, salt, flat index), so the reference executor, the MLIR
// kernels and the backward pass (which re-derives the forward mask instead of
// storing it) all draw the very same mask. The MLIR lowering emits exactly
// these 32-bit integer operations.
#pragma once

#include <cstdint>

namespace recc {

inline constexpr uint32_t kHashIndexMul = 0x9E3779B1u;
inline constexpr uint32_t kHashSeedMul = 0x85EBCA77u;
inline constexpr uint32_t kHashSaltMul = 0xC2B2AE3Du;
inline constexpr uint32_t kHashMix1 = 0x7FEB352Du;
inline constexpr uint32_t kHashMix2 = 0x846CA68Bu;

/// A well-mixed 32-bit hash of (seed, salt, index) (lowbias32 finalizer).
inline uint32_t dropoutHash(uint32_t seed, uint32_t salt, uint32_t index) {
  uint32_t x = index * kHashIndexMul + seed * kHashSeedMul + salt * kHashSaltMul;
  x ^= x >> 16;
  x *= kHashMix1;
  x ^= x >> 15;
  x *= kHashMix2;
  x ^= x >> 16;
  return x;
}

/// The integer threshold for drop probability p: an element is kept when the
/// top 24 bits of its hash are >= this. Integer comparison keeps every backend
/// bit-identical (no float rounding of p).
inline uint32_t dropoutThreshold(double p) {
  double t = p * 16777216.0;
  uint32_t ti = (uint32_t)t;
  return (double)ti < t ? ti + 1 : ti;
}

/// Whether dropout keeps element `index`. Kept elements are scaled by 1/(1-p)
/// (inverted dropout), so evaluation needs no rescaling.
inline bool dropoutKeep(uint32_t seed, uint32_t salt, uint32_t index, uint32_t threshold) {
  return (dropoutHash(seed, salt, index) >> 8) >= threshold;
}

} // namespace recc
