// Tensor: a dense float32 tensor with a concrete shape and 64-byte aligned,
// row-major storage. Everything the runtime hands to a step function (inputs,
// parameters, gradients, outputs) lives in one of these, so compiled code can
// assume cache-line alignment and use aligned AVX-512 loads. Tensors are
// move-only: copying megabytes of parameters by accident is a bug, so clone()
// makes it explicit.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace recc::rt {

using Shape = std::vector<int64_t>;

/// Number of elements of a concrete shape (1 for a scalar, []).
int64_t numElements(const Shape& shape);
/// Formats a shape as "[696,512]" for error messages.
std::string shapeString(const Shape& shape);

class Tensor {
public:
  /// Storage alignment in bytes (one cache line, one zmm register).
  static constexpr size_t kAlignment = 64;
  using RowMajorMatrix =
      Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  Tensor() = default;
  /// Allocates a zero-filled tensor; every dimension must be >= 0.
  explicit Tensor(Shape shape);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  /// A deep copy.
  Tensor clone() const;

  const Shape& shape() const { return Dims; }
  int64_t rank() const { return static_cast<int64_t>(Dims.size()); }
  int64_t dim(int64_t i) const { return Dims[i]; }
  int64_t numel() const { return Numel; }
  bool empty() const { return Numel == 0; }
  size_t bytes() const { return static_cast<size_t>(Numel) * sizeof(float); }

  float* data() { return Data.get(); }
  const float* data() const { return Data.get(); }
  std::span<float> span() { return {Data.get(), static_cast<size_t>(Numel)}; }
  std::span<const float> span() const {
    return {Data.get(), static_cast<size_t>(Numel)};
  }
  float& operator[](int64_t i) { return Data[i]; }
  float operator[](int64_t i) const { return Data[i]; }

  void fill(float value);
  /// Views a rank-2 tensor as a row-major Eigen matrix (rank 1: one row).
  Eigen::Map<RowMajorMatrix> matrix();
  Eigen::Map<const RowMajorMatrix> matrix() const;

private:
  struct AlignedFree {
    void operator()(float* p) const;
  };
  Shape Dims;
  int64_t Numel = 0;
  std::unique_ptr<float[], AlignedFree> Data;
};

} // namespace recc::rt
