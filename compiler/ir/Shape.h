// Shape: static tensor shapes with symbolic batch dimensions: B, the batch
// size, and B1, B2, ... for the batches of a model's other input streams.
// Every graph value has a Shape; the batch sizes are bound to numbers
// (rt::BatchSizes) only when a graph runs.
#pragma once

#include "runtime/BatchSizes.h"
#include "runtime/CheckedMath.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace recc {

/// The extent used for the symbolic batch dimension in Shape::dims.
inline constexpr int64_t kBatchDim = -1;
/// The batch dimension of input stream k >= 1 (a model reading two streams,
/// such as DAMCAR's source and target batches, has batches of two sizes);
/// printed "B1", "B2", ... Stream 0's batch is kBatchDim, printed "B".
inline constexpr int64_t streamBatchDim(int k) { return -1 - k; }
inline constexpr bool isBatchDim(int64_t d) { return d < 0; }

struct Shape {
  std::vector<int64_t> dims;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims(d) {}
  explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}

  size_t rank() const { return dims.size(); }
  bool isScalar() const { return dims.empty(); }
  int64_t operator[](size_t i) const { return dims[i]; }
  bool hasBatch() const {
    for (auto d : dims) if (isBatchDim(d)) return true;
    return false;
  }
  /// The concrete extents once the batch sizes are known (an int binds
  /// every stream's batch to it). Throws std::out_of_range for a stream
  /// `batch` has no size for.
  std::vector<int64_t> concrete(const rt::BatchSizes& batch) const {
    std::vector<int64_t> out = dims;
    for (auto& d : out) if (isBatchDim(d)) d = batch.ofDim(d);
    return out;
  }
  /// Throws std::overflow_error (naming the shape) when the count overflows.
  int64_t numElements(const rt::BatchSizes& batch) const {
    auto n = rt::checkedProduct(concrete(batch));
    if (!n)
      throw std::overflow_error("shape " + str() + " has more elements than 64-bit sizes can count");
    return *n;
  }
  bool operator==(const Shape& o) const { return dims == o.dims; }
  bool operator!=(const Shape& o) const { return dims != o.dims; }

  /// "B" for the batch dimension, else the number.
  static std::string dimStr(int64_t d) {
    if (d >= 0) return std::to_string(d);
    // Appending (not "B" + ...) sidesteps GCC 12's false -Wrestrict warning.
    std::string s = "B";
    if (d != kBatchDim) s += std::to_string(-1 - d);
    return s;
  }

  /// "[B,512]", "[]" for a scalar.
  std::string str() const {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) {
      if (i) s += ",";
      s += dimStr(dims[i]);
    }
    return s + "]";
  }
};

} // namespace recc
