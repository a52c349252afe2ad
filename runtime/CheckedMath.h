// CheckedMath: 64-bit arithmetic for sizes, counts and byte totals that says
// when it overflows instead of wrapping around. A declared table of 2^53 x
// 2^24 rows and columns has 2^77 parameters: wrapped, it would count as a
// small table in a summary or pass a memory check. Each helper returns
// nullopt on overflow; callers refuse the input with a message naming the
// table or tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace recc::rt {

inline std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    return std::nullopt;
  return out;
}

inline std::optional<int64_t> checkedAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    return std::nullopt;
  return out;
}

/// The product of `dims` (1 for none), or nullopt when it overflows.
inline std::optional<int64_t> checkedProduct(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (__builtin_mul_overflow(n, d, &n))
      return std::nullopt;
  return n;
}

/// a * b + c over optionals: nullopt if any input is or the result would be.
inline std::optional<int64_t> checkedMulAdd(std::optional<int64_t> a, int64_t b,
                                            std::optional<int64_t> c) {
  if (!a || !c)
    return std::nullopt;
  auto p = checkedMul(*a, b);
  return p ? checkedAdd(*p, *c) : std::nullopt;
}

} // namespace recc::rt
