// DynamicRows: see DynamicRows.h.
#include "runtime/DynamicRows.h"

#include <tbb/parallel_sort.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace recc::rt {

namespace {

/// Records per page: as many whole records as fill 2 MiB, at least one.
int64_t recordsPerPage(int64_t width) {
  return std::max<int64_t>(1, DynamicRows::kPageBytes / (width * int64_t(sizeof(float))));
}

} // namespace

DynamicRows::DynamicRows(int64_t dim, int slots)
    : Dim(dim), Slots(slots), Width(dim * (1 + slots)), PageRows(recordsPerPage(Width)) {}

int64_t DynamicRows::pageBytes(int64_t dim, int slots) {
  const int64_t width = dim * (1 + slots);
  const int64_t bytes = recordsPerPage(width) * width * int64_t(sizeof(float));
  return (bytes + kPageBytes - 1) / kPageBytes * kPageBytes;
}

void DynamicRows::FreePage::operator()(float* p) const { std::free(p); }

int64_t DynamicRows::insert(int64_t id) {
  const int64_t slot = size();
  if (slot % PageRows == 0) {
    const size_t bytes = size_t(pageBytes(Dim, Slots));
    void* page = std::aligned_alloc(size_t(kPageBytes), bytes);
    if (!page)
      throw std::bad_alloc();
    ::madvise(page, bytes, MADV_HUGEPAGE);  // advice only: no error if refused
    Pages.emplace_back(static_cast<float*>(page));
  }
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
  return int64_t(Pages.size()) * pageBytes(Dim, Slots) + Index.bytes() +
         int64_t(Ids.capacity() * sizeof(int64_t));
}

int64_t DynamicRows::bytesPerRow(int64_t dim, int slots) {
  // The id list doubles as it grows: up to two ids' worth per row.
  return dim * (1 + slots) * int64_t(sizeof(float)) + 2 * int64_t(sizeof(int64_t)) +
         IdSlotMap::kMaxBytesPerRow;
}

} // namespace recc::rt
