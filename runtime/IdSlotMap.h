// IdSlotMap: the index of a dynamic table (DynamicRows.h), from a row id
// (>= 0) to the slot holding that row. Open addressing with linear probing
// over a power-of-two array of (id, slot) pairs, id -1 marking an empty
// entry, kept at most 70% full (so a row costs 16 to 46 bytes of index).
//
// Why not a general hash map: keys are non-negative int64 ids and entries are
// never erased, so there are no tombstones, and a lookup is one mixed hash and
// a short scan of one or two cache lines. find() is const and touches no
// shared state, so any number of threads may look ids up at once while no
// thread inserts; the table inserts only between its parallel phases.
// (std::unordered_map allocates a node per id and chases a pointer per
// lookup; absl's flat_hash_map, the closest well-kept alternative, is not
// installed on the build machines and would add a dependency for the same
// probing scheme.)
#pragma once

#include "runtime/Random.h"

#include <cstdint>
#include <vector>

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

  /// Adds `id` (absent, >= 0) with `slot`. Not safe alongside other calls.
  void insert(int64_t id, int64_t slot) {
    if ((Count + 1) * 10 > int64_t(Entries.size()) * 7)
      rehash(Entries.size() * 2);
    place(id, slot);
    ++Count;
  }

  int64_t size() const { return Count; }
  /// Bytes of the index array.
  int64_t bytes() const { return int64_t(Entries.size() * sizeof(Entry)); }
  /// Index bytes per row at the fullest a table can be (70%) and right after
  /// it doubles (35%): what the memory check charges per row.
  static constexpr int64_t kMaxBytesPerRow = 46;

  void clear() {
    Entries.assign(1024, Entry{});
    Mask = Entries.size() - 1;
    Count = 0;
  }

private:
  struct Entry {
    int64_t id = -1;
    int64_t slot = -1;
  };

  void place(int64_t id, int64_t slot) {
    uint64_t i = mix64(uint64_t(id)) & Mask;
    while (Entries[i].id >= 0)
      i = (i + 1) & Mask;
    Entries[i] = {id, slot};
  }

  void rehash(size_t capacity) {
    std::vector<Entry> old(capacity);
    old.swap(Entries);
    Mask = capacity - 1;
    for (const Entry& e : old)
      if (e.id >= 0)
        place(e.id, e.slot);
  }

  std::vector<Entry> Entries;
  uint64_t Mask = 0;
  int64_t Count = 0;
};

} // namespace recc::rt
