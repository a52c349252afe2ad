// Tensor: aligned allocation and the few helpers that need a .cpp. Storage
// comes from std::aligned_alloc rounded up to whole cache lines and is zeroed,
// so a fresh tensor is always a valid all-zero value.
#include "runtime/Tensor.h"

#include "runtime/CheckedMath.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>

namespace recc::rt {

int64_t numElements(const Shape& shape) {
  auto n = checkedProduct(shape);
  if (!n)
    fail("tensor shape {} has more elements than 64-bit sizes can count", shapeString(shape));
  return *n;
}

std::string shapeString(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

void Tensor::AlignedFree::operator()(float* p) const { std::free(p); }

Tensor::Tensor(Shape shape) : Dims(std::move(shape)) {
  for (int64_t d : Dims)
    if (d < 0)
      fail("invalid tensor shape {}", shapeString(Dims));
  Numel = numElements(Dims);
  if (!checkedMulAdd(Numel, sizeof(float), kAlignment))  // the rounding below
    fail("tensor shape {} is too large to allocate", shapeString(Dims));
  size_t bytes = std::max<size_t>(this->bytes(), 1);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, bytes);
  Data.reset(static_cast<float*>(p));
}

Tensor Tensor::clone() const {
  Tensor copy(Dims);
  if (Numel)
    std::memcpy(copy.data(), data(), bytes());
  return copy;
}

void Tensor::fill(float value) { std::fill_n(Data.get(), Numel, value); }

Eigen::Map<Tensor::RowMajorMatrix> Tensor::matrix() {
  assert(rank() == 1 || rank() == 2);
  int64_t rows = rank() == 2 ? Dims[0] : 1;
  return {data(), rows, rank() == 2 ? Dims[1] : Numel};
}

Eigen::Map<const Tensor::RowMajorMatrix> Tensor::matrix() const {
  assert(rank() == 1 || rank() == 2);
  int64_t rows = rank() == 2 ? Dims[0] : 1;
  return {data(), rows, rank() == 2 ? Dims[1] : Numel};
}

} // namespace recc::rt
