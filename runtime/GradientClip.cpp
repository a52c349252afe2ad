// GradientClip: see GradientClip.h.
#include "runtime/GradientClip.h"

#include "runtime/Parallel.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace recc::rt {

double squaredNorm(const float* x, int64_t n) {
  // Four partial sums: independent chains the compiler can vectorize.
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k)
      s[k] += double(x[i + k]) * double(x[i + k]);
  for (; i < n; ++i)
    s[0] += double(x[i]) * double(x[i]);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

double summedRowsSquaredNorm(const EmbeddingTable::RowRuns& runs, int64_t dim) {
  double total = 0;
  std::vector<double> sum(dim);
  for (size_t k = 0; k < runs.ids.size(); ++k) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (size_t j = runs.start[k]; j < runs.start[k + 1]; ++j)
      for (int64_t d = 0; d < dim; ++d)
        sum[d] += runs.grads[j][d];
    total += std::inner_product(sum.begin(), sum.end(), sum.begin(), 0.0);
  }
  return total;
}

double clipFactor(double norm, double maxNorm) {
  if (!std::isfinite(norm))
    return std::nan("");
  return std::min(1.0, maxNorm / (norm + 1e-6));
}

SquaredNorms squaredNorms(std::span<const std::span<const float>> dense,
                          std::span<const TableGradient> tables) {
  std::vector<double> parts(dense.size() + tables.size());
  parallelChunks(int64_t(parts.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (size_t(i) < dense.size()) {
        parts[i] = squaredNorm(dense[i].data(), int64_t(dense[i].size()));
        continue;
      }
      const TableGradient& t = tables[i - dense.size()];
      parts[i] = summedRowsSquaredNorm(*t.runs, t.dim);
    }
  });
  SquaredNorms out;
  for (size_t i = 0; i < parts.size(); ++i)
    (i < dense.size() ? out.dense : out.tables) += parts[i];
  return out;
}

void scaleInPlace(std::span<const std::span<float>> buffers, float factor) {
  constexpr size_t kPiece = 1 << 14;
  std::vector<std::span<float>> pieces;
  for (std::span<float> b : buffers)
    for (size_t o = 0; o < b.size(); o += kPiece)
      pieces.push_back(b.subspan(o, std::min(kPiece, b.size() - o)));
  parallelChunks(int64_t(pieces.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (float& x : pieces[i])
        x *= factor;
  });
}

} // namespace recc::rt
