// OpHelpers: axis normalization, reduced shapes and broadcast strides.
#include "compiler/ops/OpHelpers.h"

#include <algorithm>

namespace recc::ophelpers {

void requireStatic(const Shape& s, size_t from, const char* op) {
  for (size_t i = from; i < s.rank(); ++i)
    if (s[i] < 0)
      throw ShapeError(fmt::format("'{}': axis {} of {} must not be a batch axis", op, i, s.str()));
}

int64_t normalizeAxis(int64_t axis, size_t rank, const char* op) {
  int64_t r = (int64_t)rank;
  if (axis < -r || axis >= r)
    throw ShapeError(fmt::format("'{}': axis {} is out of range for rank {}", op, axis, r));
  return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> normalizeAxes(std::vector<int64_t> axes, size_t rank, const char* op) {
  if (axes.empty())
    for (size_t i = 0; i < rank; ++i) axes.push_back((int64_t)i);
  for (auto& a : axes) a = normalizeAxis(a, rank, op);
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

Shape reduceShape(const Shape& s, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < s.rank(); ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), (int64_t)i) != axes.end();
    if (!reduced) out.dims.push_back(s[i]);
    else if (keepdims) out.dims.push_back(1);
  }
  return out;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) st[i - 1] = st[i] * shape[i];
  return st;
}

std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& in,
                                      const std::vector<int64_t>& out) {
  std::vector<int64_t> inSt = stridesOf(in);
  std::vector<int64_t> st(out.size(), 0);
  size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[off + i] = in[i] == 1 ? 0 : inSt[i];
  return st;
}

} // namespace recc::ophelpers
