// DynamicRows: the storage of a dynamic table (TableSpec::dynamic): only the
// rows that training has touched, in slots allocated in order of first touch.
// A slot is one record [weights (dim) | optimizer slot 0 (dim) | slot 1 (dim)],
// so an update reads and writes one contiguous run of memory per row. Records
// live in 2 MiB pages (as many whole records as fit), allocated as needed, so
// memory follows the rows touched (plus at most one partly used page) and a
// page never moves: a pointer to a record stays valid while other rows are
// inserted. Pages are 2 MiB-aligned and advised as huge pages (where the
// kernel's transparent huge pages allow it): rows are read at random, and one
// TLB entry then covers thousands of rows instead of sixteen.
//
// Slot numbers depend on the order rows were first touched; nothing else does.
// Values are addressed by id, checkpoints list rows sorted by id, and a row's
// initial value depends only on (seed, table name, id) (Init.h), so neither
// the touch order nor the thread count can change a result.
#pragma once

#include "runtime/IdSlotMap.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace recc::rt {

class DynamicRows {
public:
  static constexpr int64_t kPageBytes = int64_t(1) << 21;

  /// Rows of `dim` weights, each with `slots` optimizer state vectors.
  DynamicRows(int64_t dim, int slots);

  int64_t dim() const { return Dim; }
  int optimizerSlots() const { return Slots; }
  /// Rows held.
  int64_t size() const { return int64_t(Ids.size()); }
  /// The slot of row `id`, or -1. Thread-safe while nothing inserts.
  int64_t find(int64_t id) const { return Index.find(id); }
  /// Starts loading what find(id) reads first (IdSlotMap::prefetch).
  void prefetch(int64_t id) const { Index.prefetch(id); }
  /// Adds row `id` (absent) and returns its slot; the record is uninitialized.
  int64_t insert(int64_t id);
  /// The id stored in `slot`.
  int64_t idAt(int64_t slot) const { return Ids[slot]; }

  /// The record of `slot`: weights, then each optimizer slot's vector.
  float* record(int64_t slot) { return Pages[slot / PageRows].get() + (slot % PageRows) * Width; }
  const float* record(int64_t slot) const {
    return Pages[slot / PageRows].get() + (slot % PageRows) * Width;
  }

  /// The slots of all rows, ordered by id (for checkpoints).
  std::vector<int64_t> slotsById() const;
  /// Drops every row.
  void clear();

  /// Bytes held: pages, the index and the id list.
  int64_t bytes() const;
  /// Bytes a row costs at most, page slack aside: its record, its id and
  /// its share of the index (IdSlotMap::kMaxBytesPerRow).
  static int64_t bytesPerRow(int64_t dim, int slots);
  /// Bytes of one page of records of `dim` and `slots` (the most a table
  /// holds beyond its rows' bytesPerRow).
  static int64_t pageBytes(int64_t dim, int slots);

private:
  struct FreePage {
    void operator()(float* p) const;
  };
  int64_t Dim;
  int Slots;
  int64_t Width;     // floats per record
  int64_t PageRows;  // records per page
  IdSlotMap Index;
  std::vector<int64_t> Ids;  // slot -> id
  std::vector<std::unique_ptr<float[], FreePage>> Pages;
};

} // namespace recc::rt
