// OpHelpers: small pieces shared by the op families — shape-rule helpers,
// attribute checks and strided index arithmetic for broadcasting kernels.
#pragma once

#include "compiler/ops/OpDef.h"

#include <fmt/format.h>

namespace recc::ophelpers {

/// The family tables, concatenated by the registry.
std::vector<OpDef> leafOps();
std::vector<OpDef> elementwiseOps();
std::vector<OpDef> matmulOps();
std::vector<OpDef> routedMatmulOps();
std::vector<OpDef> structureOps();
std::vector<OpDef> reduceOps();
std::vector<OpDef> randomOps();
std::vector<OpDef> gradientFlowOps();
std::vector<OpDef> batchRowOps();

/// Throws ShapeError unless axes [from, rank) of `s` are static (no batch).
void requireStatic(const Shape& s, size_t from, const char* op);

/// Normalizes a possibly negative axis against `rank`; throws ShapeError.
int64_t normalizeAxis(int64_t axis, size_t rank, const char* op);

/// Shape with the given (sorted, normalized) axes removed or set to 1.
Shape reduceShape(const Shape& s, const std::vector<int64_t>& axes, bool keepdims);

/// Sorted, normalized, de-duplicated axes; empty `axes` means all axes.
std::vector<int64_t> normalizeAxes(std::vector<int64_t> axes, size_t rank, const char* op);

/// Row-major strides of a concrete shape.
std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape);

/// Strides to read `in` (right-aligned broadcast) while walking `out`: 0 where
/// `in` has extent 1 or lacks the axis.
std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& in,
                                      const std::vector<int64_t>& out);

/// Calls f(outIndex, inOffset) for every element of `out`, where inOffset walks
/// `in` with `inStrides` (as produced by broadcastStrides).
template <typename F>
void forEachBroadcast(const std::vector<int64_t>& out, const std::vector<int64_t>& inStrides,
                      F&& f) {
  size_t rank = out.size();
  int64_t total = 1;
  for (auto d : out) total *= d;
  if (total == 0) return;
  std::vector<int64_t> idx(rank, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < total; ++i) {
    f(i, off);
    for (size_t k = rank; k-- > 0;) {
      ++idx[k];
      off += inStrides[k];
      if (idx[k] < out[k]) break;
      off -= inStrides[k] * out[k];
      idx[k] = 0;
    }
  }
}

} // namespace recc::ophelpers
