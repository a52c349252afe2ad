// BatchSizes: the rows of each input stream's batch in one step. A model reads
// stream 0 (its inputs outside any `stream` block, batch dimension B) and one
// stream per `stream NAME { ... }` block (B1, B2, ...); a training step draws a
// batch of each, each of its own size. One size binds every stream: that is
// evaluation and prediction, where all streams read the same rows, and every
// model without streams.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace recc::rt {

class BatchSizes {
public:
  /// Every stream's batch has `all` rows (implicit: one size is the common case).
  BatchSizes(int64_t all) : Sizes{all}, Uniform(true) {}  // NOLINT(google-explicit-constructor)
  /// Stream k's batch has perStream[k] rows (perStream[0]: the source batch).
  explicit BatchSizes(std::vector<int64_t> perStream)
      : Sizes(std::move(perStream)), Uniform(false) {
    if (Sizes.empty()) throw std::invalid_argument("BatchSizes: no stream");
  }

  /// Stream 0's rows (B).
  int64_t source() const { return Sizes[0]; }
  /// Stream k's rows; throws std::out_of_range when stream k has no size.
  int64_t stream(size_t k) const {
    if (Uniform) return Sizes[0];
    if (k >= Sizes.size())
      throw std::out_of_range("no batch size for input stream " + std::to_string(k) + " (B" +
                              std::to_string(k) + "); " + str() + " given");
    return Sizes[k];
  }
  /// The extent of batch dimension `d` (-1 is B, -2 is B1, ...: Shape.h).
  int64_t ofDim(int64_t d) const { return stream(static_cast<size_t>(-1 - d)); }
  /// The sizes given: one (uniform) or one per stream.
  const std::vector<int64_t>& all() const { return Sizes; }
  /// True when one size binds every stream.
  bool uniform() const { return Uniform; }
  /// The largest stream batch (for estimates and buffer capacity).
  int64_t largest() const {
    int64_t m = 0;
    for (int64_t s : Sizes) m = s > m ? s : m;
    return m;
  }
  /// Equal when every stream has the same size ({512} binds a stream 1
  /// to 512 as {512, 512} does).
  bool operator==(const BatchSizes& o) const {
    const size_t n = std::max(Sizes.size(), o.Sizes.size());
    for (size_t k = 0; k < n; ++k)
      if (sizeOr0(k) != o.sizeOr0(k)) return false;
    return true;
  }

  /// "512", or "B=512, B1=256" for streams of their own sizes.
  std::string str() const {
    if (Uniform) return std::to_string(Sizes[0]);
    std::string s;
    for (size_t k = 0; k < Sizes.size(); ++k) {
      if (k) s += ", ";
      s += "B";
      if (k) s += std::to_string(k);
      s += "=" + std::to_string(Sizes[k]);
    }
    return s;
  }

private:
  int64_t sizeOr0(size_t k) const { return Uniform ? Sizes[0] : k < Sizes.size() ? Sizes[k] : 0; }

  std::vector<int64_t> Sizes;
  bool Uniform;
};

} // namespace recc::rt
