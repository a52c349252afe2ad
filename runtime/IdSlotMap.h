// IdSlotMap: the index of a dynamic table (DynamicRows.h), from a row id
// (>= 0) to the slot holding that row. Open addressing with linear probing
// over a power-of-two array of (id, slot) pairs, id -1 marking an empty
// entry, kept at most 70% full (so a row costs 16 to 46 bytes of index).
//
// Why not a general hash map: keys are non-negative int64 ids and entries are
// never erased, so there are no tombstones, and a lookup is one mixed hash and
// a short scan of one or two cache lines. find() is const and touches no
// shared state, so any number of threads may look ids up at once while no
// thread inserts; the table inserts only between its parallel phases. An
// array of 2 MiB or more is 2 MiB-aligned and advised as huge pages, as the
// rows' pages are (DynamicRows.h): lookups land at random.
// (std::unordered_map allocates a node per id and chases a pointer per
// lookup; absl's flat_hash_map, the closest well-kept alternative, is not
// installed on the build machines and would add a dependency for the same
// probing scheme.)
#pragma once

#include "runtime/Random.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

namespace recc::rt {

class IdSlotMap {
public:
  IdSlotMap() { clear(); }

  /// The slot of `id`, or -1 if absent.
  int64_t find(int64_t id) const {
    for (uint64_t i = mix64(uint64_t(id)) & Mask;; i = (i + 1) & Mask) {
      const Entry& e = Entries[i];
      if (e.id == id)
        return e.slot;
      if (e.id < 0)
        return -1;
    }
  }

  /// Starts loading the entry where a lookup of `id` begins, so that a batch
  /// of lookups overlaps its cache misses instead of taking them in turn.
  void prefetch(int64_t id) const { __builtin_prefetch(&Entries[mix64(uint64_t(id)) & Mask]); }

  /// Adds `id` (absent, >= 0) with `slot`. Not safe alongside other calls.
  void insert(int64_t id, int64_t slot) {
    if ((Count + 1) * 10 > int64_t(Capacity) * 7)
      rehash(Capacity * 2);
    place(id, slot);
    ++Count;
  }

  int64_t size() const { return Count; }
  /// Bytes of the index array.
  int64_t bytes() const { return int64_t(Capacity * sizeof(Entry)); }
  /// Index bytes per row at the fullest a table can be (70%) and right after
  /// it doubles (35%): what the memory check charges per row.
  static constexpr int64_t kMaxBytesPerRow = 46;

  void clear() {
    allocate(1024);
    Count = 0;
  }

private:
  struct Entry {
    int64_t id = -1;
    int64_t slot = -1;
  };
  struct Free {
    void operator()(Entry* p) const { std::free(p); }
  };

  /// Replaces the array by `capacity` (a power of two) empty entries.
  void allocate(size_t capacity) {
    const size_t bytes = capacity * sizeof(Entry);
    constexpr size_t kHuge = size_t(1) << 21;
    void* p = bytes >= kHuge ? std::aligned_alloc(kHuge, bytes) : std::malloc(bytes);
    if (!p)
      throw std::bad_alloc();
    if (bytes >= kHuge)
      ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only
    Entries.reset(static_cast<Entry*>(p));
    std::uninitialized_fill_n(Entries.get(), capacity, Entry{});
    Capacity = capacity;
    Mask = capacity - 1;
  }

  void place(int64_t id, int64_t slot) {
    uint64_t i = mix64(uint64_t(id)) & Mask;
    while (Entries[i].id >= 0)
      i = (i + 1) & Mask;
    Entries[i] = {id, slot};
  }

  void rehash(size_t capacity) {
    std::unique_ptr<Entry[], Free> old = std::move(Entries);
    const size_t oldCapacity = Capacity;
    allocate(capacity);
    for (size_t i = 0; i < oldCapacity; ++i)
      if (old[i].id >= 0)
        place(old[i].id, old[i].slot);
  }

  std::unique_ptr<Entry[], Free> Entries;
  size_t Capacity = 0;
  uint64_t Mask = 0;
  int64_t Count = 0;
};

} // namespace recc::rt
