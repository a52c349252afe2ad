// DynamicRows: see DynamicRows.h.
#include "runtime/DynamicRows.h"

#include <tbb/parallel_sort.h>

#include <algorithm>

namespace recc::rt {

DynamicRows::DynamicRows(int64_t dim, int slots)
    : Dim(dim), Slots(slots), Width(dim * (1 + slots)) {}

int64_t DynamicRows::insert(int64_t id) {
  const int64_t slot = size();
  if (slot % kPageRows == 0)
    Pages.push_back(std::make_unique_for_overwrite<float[]>(size_t(kPageRows * Width)));
  Ids.push_back(id);
  Index.insert(id, slot);
  return slot;
}

std::vector<int64_t> DynamicRows::slotsById() const {
  std::vector<int64_t> slots(Ids.size());
  for (size_t s = 0; s < slots.size(); ++s)
    slots[s] = int64_t(s);
  tbb::parallel_sort(slots.begin(), slots.end(),
                     [&](int64_t a, int64_t b) { return Ids[a] < Ids[b]; });
  return slots;
}

void DynamicRows::clear() {
  Index.clear();
  Ids.clear();
  Ids.shrink_to_fit();
  Pages.clear();
}

int64_t DynamicRows::bytes() const {
  return int64_t(Pages.size()) * kPageRows * Width * int64_t(sizeof(float)) + Index.bytes() +
         int64_t(Ids.capacity() * sizeof(int64_t));
}

int64_t DynamicRows::bytesPerRow(int64_t dim, int slots) {
  // The id list doubles as it grows: up to two ids' worth per row.
  return dim * (1 + slots) * int64_t(sizeof(float)) + 2 * int64_t(sizeof(int64_t)) +
         IdSlotMap::kMaxBytesPerRow;
}

} // namespace recc::rt
