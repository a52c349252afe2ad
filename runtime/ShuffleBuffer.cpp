// ShuffleBuffer: see ShuffleBuffer.h.
#include "runtime/ShuffleBuffer.h"

#include "runtime/Error.h"
#include "runtime/Random.h"

#include <algorithm>

namespace recc::rt {

void copyRow(const ModelPlan& plan, const DataSet& src, int64_t from, DataSet& dst,
             int64_t to) {
  for (size_t f = 0; f < plan.features.size(); ++f) {
    const int fi = static_cast<int>(f);
    if (plan.features[f].kind == FeatureSpec::Kind::Dense) {
      dst.dense(fi)[to] = src.dense(fi)[from];
    } else {
      const int64_t w = src.width(fi);
      std::copy_n(src.ids(fi).begin() + from * w, w, dst.ids(fi).begin() + to * w);
    }
  }
  for (size_t l = 0; l < plan.labels.size(); ++l) {
    const int li = static_cast<int>(l);
    if (!src.label(li).empty() && !dst.label(li).empty())
      dst.label(li)[to] = src.label(li)[from];
  }
}

ShuffleBuffer::ShuffleBuffer(const ModelPlan& plan, int64_t capacity)
    : Plan(plan), Capacity(capacity), Rows(plan, capacity, /*withLabels=*/true,
                                           /*withGroups=*/false) {
  if (capacity < 1)
    fail("--stream-buffer: the shuffle buffer needs at least 1 row, got {}", capacity);
}

void ShuffleBuffer::startEpoch(uint64_t seed, int64_t epoch) {
  Size = 0;
  Key = combine(seed, static_cast<uint64_t>(epoch));
  Draws = 0;
}

int64_t ShuffleBuffer::draw(int64_t bound) {
  return static_cast<int64_t>(combine(Key, Draws++) % static_cast<uint64_t>(bound));
}

bool ShuffleBuffer::push(const DataSet& chunk, int64_t row, DataSet& out, int64_t outRow) {
  if (Size < Capacity) {
    copyRow(Plan, chunk, row, Rows, Size++);
    return false;
  }
  const int64_t j = draw(Capacity);
  copyRow(Plan, Rows, j, out, outRow);
  copyRow(Plan, chunk, row, Rows, j);
  return true;
}

bool ShuffleBuffer::drain(DataSet& out, int64_t outRow) {
  if (Size == 0)
    return false;
  const int64_t j = draw(Size);
  copyRow(Plan, Rows, j, out, outRow);
  if (j != Size - 1)
    copyRow(Plan, Rows, Size - 1, Rows, j);
  --Size;
  return true;
}

} // namespace recc::rt
