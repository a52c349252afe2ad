// DynamicCheckpoint: see DynamicCheckpoint.h. Rows are written and read in
// chunks of kChunkRows, so neither a save nor a load holds a second copy of a
// table.
#include "runtime/DynamicCheckpoint.h"

#include "runtime/Error.h"
#include "runtime/ShardedTables.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>

namespace recc::rt {
namespace {

constexpr int64_t kChunkRows = 4096;

std::string slotTensor(OptimizerKind kind, int s, const std::string& table) {
  return std::string(optimizerSlotName(kind, s)) + "/" + table;
}

/// A writer of part `part` of each record (0: weights, 1 + s: optimizer
/// slot s), rows in id order.
TensorRef rowsTensor(std::string name, const DynamicRows& rows,
                     std::shared_ptr<const std::vector<int64_t>> order, int part) {
  const int64_t dim = rows.dim();
  TensorRef t{std::move(name), {int64_t(order->size()), dim}, nullptr};
  t.fill = [&rows, order, part, dim](int64_t first, int64_t count, void* out) {
    // Chunks need not start at a row boundary.
    float* dst = static_cast<float*>(out);
    for (int64_t e = first; e < first + count; ++e)
      *dst++ = rows.record((*order)[e / dim])[part * dim + e % dim];
  };
  return t;
}

} // namespace

std::string idsTensorName(const std::string& table) { return "ids/" + table; }

void collectDynamicTables(const ModelState& state, std::vector<TensorRef>& out) {
  const OptimizerKind kind = state.denseOptimizer.kind();
  for (const EmbeddingTable& t : state.tables) {
    const DynamicRows* rows = t.dynamicRows();
    if (!rows)
      continue;
    auto order = std::make_shared<const std::vector<int64_t>>(rows->slotsById());
    TensorRef ids{idsTensorName(t.name()), {int64_t(order->size())}, nullptr, DType::I64};
    ids.fill = [rows, order](int64_t first, int64_t count, void* out) {
      int64_t* dst = static_cast<int64_t*>(out);
      for (int64_t i = 0; i < count; ++i)
        dst[i] = rows->idAt((*order)[first + i]);
    };
    out.push_back(std::move(ids));
    out.push_back(rowsTensor(t.name(), *rows, order, 0));
    for (int s = 0; s < rows->optimizerSlots(); ++s)
      out.push_back(rowsTensor(slotTensor(kind, s, t.name()), *rows, order, 1 + s));
  }
}

bool loadsByRows(const SafeTensorsReader& in, const EmbeddingTable& t) {
  return t.isDynamic() || in.has(idsTensorName(t.name()));
}

namespace {

/// The ids of table `t` from `in`, checked: I64 [n], increasing, in [0, rows).
std::vector<int64_t> readIds(const SafeTensorsReader& in, const EmbeddingTable& t) {
  const std::string name = idsTensorName(t.name());
  if (in.dtype(name) != DType::I64 || in.shape(name).size() != 1)
    fail("{}: tensor '{}' must be I64 [n] (the ids of table '{}'), but it is {} {}", in.path(),
         name, t.name(), in.dtype(name) == DType::I64 ? "I64" : "F32",
         shapeString(in.shape(name)));
  in.verify(name);  // its CRC-32
  std::vector<int64_t> ids(size_t(in.shape(name)[0]));
  if (!ids.empty())
    in.readRange(name, 0, int64_t(ids.size()), ids.data());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= t.rows())
      fail("{}: tensor '{}' element {}: id {} is outside table '{}' of {} rows", in.path(),
           name, i, ids[i], t.name(), t.rows());
    if (i > 0 && ids[i] <= ids[i - 1])
      fail("{}: tensor '{}' element {}: id {} follows id {}; ids must be distinct and "
           "increasing", in.path(), name, i, ids[i], ids[i - 1]);
  }
  return ids;
}

/// Checks that `name` holds one F32 row of table `t` per stored id.
void checkRows(const SafeTensorsReader& in, const std::string& name, const EmbeddingTable& t,
               size_t ids, bool allowNonFinite) {
  const Shape& shape = in.shape(name);
  if (in.dtype(name) != DType::F32)
    fail("{}: tensor '{}' has dtype I64; expected F32", in.path(), name);
  if (shape.size() != 2 || shape[1] != t.dim())
    fail("{}: tensor '{}' has shape {} in checkpoint but [{}, {}] in model (one row per id "
         "of '{}')", in.path(), name, shapeString(shape), ids, t.dim(),
         idsTensorName(t.name()));
  if (shape[0] != int64_t(ids))
    fail("{}: tensor '{}' has {} rows but '{}' lists {} ids", in.path(), name, shape[0],
         idsTensorName(t.name()), ids);
  if (int64_t i = in.verify(name); i >= 0 && !allowNonFinite)
    fail("{}: tensor '{}' has a non-finite value at element {}; nothing was loaded "
         "(--allow-non-finite loads it anyway)", in.path(), name, i);
}

} // namespace

std::vector<RowsLoad> checkRowsLoads(const SafeTensorsReader& in, const ModelState& state,
                                     bool required, bool withOptimizer, bool allowNonFinite) {
  std::vector<RowsLoad> loads;
  const OptimizerKind kind = state.denseOptimizer.kind();
  // Checks the rows and each optimizer slot's tensor of `load`, then keeps it.
  auto add = [&](RowsLoad load, const EmbeddingTable& t) {
    checkRows(in, t.name(), t, load.ids.size(), allowNonFinite);
    for (int s = 0; s < optimizerSlots(kind); ++s) {
      std::string slot = slotTensor(kind, s, t.name());
      if (!withOptimizer || !in.has(slot))
        slot.clear();
      else
        checkRows(in, slot, t, load.ids.size(), allowNonFinite);
      load.slots.push_back(slot);
    }
    loads.push_back(std::move(load));
  };
  for (size_t i = 0; i < state.tables.size(); ++i) {
    const EmbeddingTable& t = state.tables[i];
    if (!loadsByRows(in, t))
      continue;
    const std::string ids = idsTensorName(t.name());
    if (!in.has(ids) && in.has(t.name()) && state.shardedTables) {
      // A dense table's tensor, into a table sharded over the ranks: rows
      // 0..rows-1 in order, of which each rank keeps its own (loadRows).
      RowsLoad load{int(i), std::vector<int64_t>(size_t(t.rows())), {}};
      std::iota(load.ids.begin(), load.ids.end(), int64_t(0));
      add(std::move(load), t);
      continue;
    }
    if (!in.has(ids)) {
      if (in.has(t.name()))
        fail("{}: tensor '{}' is stored dense ({}, without '{}'), but the model's table is "
             "dynamic; declare the table 'dense' to load it", in.path(), t.name(),
             shapeString(in.shape(t.name())), ids);
      if (required)
        fail("{}: missing tensor '{}' (the ids of dynamic table '{}')", in.path(), ids,
             t.name());
      continue;
    }
    if (!in.has(t.name()))
      fail("{}: missing tensor '{}' (the rows listed by '{}')", in.path(), t.name(), ids);
    add(RowsLoad{int(i), readIds(in, t), {}}, t);
  }
  return loads;
}

namespace {

/// Where a stored row goes: its weights and each optimizer slot's vector.
struct RowPlace {
  float* weights;
  float* slots[2];
};

/// The places of rows `ids` in table `t`, inserting them if it is dynamic
/// (records hold weights, then the slots) or pointing into its dense buffers.
std::vector<RowPlace> placeRows(EmbeddingTable& t, const OptimizerSpec& spec,
                                std::span<const int64_t> ids) {
  std::vector<RowPlace> places(ids.size());
  const int64_t d = t.dim();
  if (DynamicRows* rows = t.dynamicRows()) {
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t slot = rows->find(ids[i]);
      float* rec = rows->record(slot >= 0 ? slot : rows->insert(ids[i]));
      places[i] = {rec, {rec + d, rec + 2 * d}};
    }
    return places;
  }
  const int n = optimizerSlots(optimizerKind(spec.kind));
  float* s0 = n > 0 ? t.slot(spec, 0).data() : nullptr;
  float* s1 = n > 1 ? t.slot(spec, 1).data() : nullptr;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t o = ids[i] * d;
    places[i] = {t.weights().data() + o, {s0 ? s0 + o : nullptr, s1 ? s1 + o : nullptr}};
  }
  return places;
}

/// Reads rows [first, first + count) of tensor `name` into the places.
void readInto(const SafeTensorsReader& in, const std::string& name, int64_t first,
              int64_t count, int64_t dim, std::vector<float>& buffer,
              const std::vector<RowPlace>& places, int part) {
  buffer.resize(size_t(count * dim));
  in.readRange(name, first * dim, count * dim, buffer.data());
  for (int64_t r = 0; r < count; ++r) {
    float* dst = part == 0 ? places[r].weights : places[r].slots[part - 1];
    std::memcpy(dst, buffer.data() + r * dim, dim * sizeof(float));
  }
}

} // namespace

void loadRows(const SafeTensorsReader& in, ModelState& state, const std::vector<RowsLoad>& loads,
              bool replace) {
  const OptimizerSpec& spec = state.plan().optimizer;
  std::vector<float> buffer, scratch;
  // Sharded tables take the rows this rank owns; the others are read past.
  const bool sharded = state.shardedTables && Cluster::distributed();
  for (const RowsLoad& load : loads) {
    EmbeddingTable& t = state.tables[load.table];
    if (DynamicRows* rows = t.dynamicRows(); rows && replace)
      rows->clear();  // the checkpoint's rows replace whatever the table held
    const int64_t n = int64_t(load.ids.size()), d = t.dim();
    scratch.resize(size_t(3 * d));
    for (int64_t first = 0; first < n; first += kChunkRows) {
      const int64_t count = std::min(kChunkRows, n - first);
      std::span<const int64_t> ids = std::span<const int64_t>(load.ids).subspan(first, count);
      std::vector<int64_t> owned;
      for (int64_t id : ids)
        if (!sharded || rowOwner(id) == Cluster::rank()) owned.push_back(id);
      std::vector<RowPlace> ownedPlaces = placeRows(t, spec, owned);
      std::vector<RowPlace> places(ids.size(), RowPlace{scratch.data(),
                                                      {scratch.data() + d, scratch.data() + 2 * d}});
      for (size_t i = 0, k = 0; i < ids.size(); ++i)
        if (k < owned.size() && ids[i] == owned[k]) places[i] = ownedPlaces[k++];
      readInto(in, t.name(), first, count, d, buffer, places, 0);
      for (size_t s = 0; s < load.slots.size(); ++s) {
        if (!load.slots[s].empty()) {
          readInto(in, load.slots[s], first, count, d, buffer, places, 1 + int(s));
          continue;
        }
        if (t.isDynamic())  // no stored state: a fresh row's
          for (const RowPlace& p : places)
            std::fill_n(p.slots[s], d, t.initialSlotValue());
      }
    }
  }
}

std::map<std::string, int64_t> storedRows(const std::string& path, const ModelPlan& plan,
                                          bool owned) {
  std::map<std::string, int64_t> rows;
  try {
    SafeTensorsReader in(path);
    for (const TableSpec& t : plan.tables) {
      const std::string name = idsTensorName(t.name);
      if (!in.has(name) || in.shape(name).size() != 1)
        continue;
      rows[t.name] = in.shape(name)[0];
      if (owned && Cluster::distributed() && in.dtype(name) == DType::I64) {
        std::vector<int64_t> ids(static_cast<size_t>(rows[t.name]));
        if (!ids.empty())
          in.readRange(name, 0, int64_t(ids.size()), ids.data());
        rows[t.name] = std::count_if(ids.begin(), ids.end(),
                                     [](int64_t id) { return rowOwner(id) == Cluster::rank(); });
      }
    }
  } catch (const RuntimeError&) {
    // The load reports what is wrong with the file.
  }
  return rows;
}

} // namespace recc::rt
