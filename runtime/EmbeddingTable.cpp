// EmbeddingTable: see EmbeddingTable.h. The update sorts (id, position) pairs
// of all valid ids, so duplicates become runs; each run is summed into a
// per-thread scratch row and applied with the shared OptimizerMath kernel.
// Runs touch distinct rows, so they are updated in parallel without locks.
#include "runtime/EmbeddingTable.h"

#include "runtime/Error.h"
#include "runtime/Parallel.h"
#include "runtime/Prefetch.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <vector>

namespace recc::rt {

EmbeddingTable::EmbeddingTable(std::string name, int64_t rows, int64_t dim)
    : Name(std::move(name)), Rows(rows), Dim(dim) {
  if (rows <= 0 || dim <= 0)
    fail("embedding table '{}' has invalid size {} x {}", Name, rows, dim);
  Weights = Tensor({rows, dim});
}

EmbeddingTable EmbeddingTable::dynamic(std::string name, int64_t rows, int64_t dim,
                                       const InitSpec& init, uint64_t seed,
                                       const OptimizerSpec& optimizer) {
  const OptimizerKind kind = optimizerKind(optimizer.kind);
  if (rows <= 0 || dim <= 0)
    fail("embedding table '{}' has invalid size {} x {}", name, rows, dim);
  EmbeddingTable t;
  t.Name = std::move(name);
  t.Rows = rows;
  t.Dim = dim;
  t.Dynamic = std::make_unique<DynamicRows>(dim, optimizerSlots(kind));
  t.Init = std::make_shared<const ElementInit>(init, t.Name, seed, Shape{rows, dim});
  t.InitialSlot = recc::rt::initialSlotValue(optimizer, kind);
  return t;
}

Tensor& EmbeddingTable::weights() {
  if (Dynamic)
    fail("table '{}' is dynamic: it has no dense [{}, {}] weights", Name, Rows, Dim);
  return Weights;
}

const Tensor& EmbeddingTable::weights() const {
  if (Dynamic)
    fail("table '{}' is dynamic: it has no dense [{}, {}] weights", Name, Rows, Dim);
  return Weights;
}

void EmbeddingTable::gather(std::span<const int64_t> ids, float* out) const {
  if (Dynamic)
    return gatherDynamic(ids, out);
  const int64_t d = dim();
  const float* w = Weights.data();
  // Chunks of 256 ids: a batch of 512 single ids (a DAMCAR generator step
  // gathers nine) is shared by two threads rather than left to one.
  parallelChunks((int64_t)ids.size(), 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (i + kPrefetchAhead < end && ids[i + kPrefetchAhead] >= 0)
        prefetchRow(w + ids[i + kPrefetchAhead] * d, d);
      int64_t id = ids[i];
      assert(id >= -1 && id < rows());
      float* dst = out + i * d;
      if (id < 0)
        std::memset(dst, 0, d * sizeof(float));
      else
        std::memcpy(dst, w + id * d, d * sizeof(float));
    }
  });
}

void EmbeddingTable::gatherDynamic(std::span<const int64_t> ids, float* out) const {
  const int64_t d = dim();
  const DynamicRows& rows = *Dynamic;
  // Ids are looked up in groups: first every index entry of the group is
  // prefetched, then every record found, then rows are copied, so a group's
  // cache misses overlap instead of following one another.
  constexpr size_t kGroup = 16;
  parallelChunks((int64_t)ids.size(), 512, [&](int64_t begin, int64_t end) {
    int64_t slots[kGroup];
    for (size_t g = begin; g < (size_t)end; g += kGroup) {
      const size_t n = std::min(kGroup, (size_t)end - g);
      for (size_t j = 0; j < n; ++j)
        if (ids[g + j] >= 0)
          rows.prefetch(ids[g + j]);
      for (size_t j = 0; j < n; ++j) {
        assert(ids[g + j] >= -1 && ids[g + j] < Rows);
        slots[j] = ids[g + j] >= 0 ? rows.find(ids[g + j]) : -1;
        if (slots[j] >= 0)
          __builtin_prefetch(rows.record(slots[j]));
      }
      for (size_t j = 0; j < n; ++j) {
        float* dst = out + (g + j) * d;
        if (slots[j] >= 0)
          std::memcpy(dst, rows.record(slots[j]), d * sizeof(float));
        else if (ids[g + j] < 0)
          std::memset(dst, 0, d * sizeof(float));
        else
          Init->row(ids[g + j], d, dst);  // untouched: not inserted
      }
    }
  });
}

bool EmbeddingTable::hasOptimizerState(OptimizerKind kind) const {
  if (Dynamic)
    return true;  // every row held has its state
  return optimizerSlots(kind) == 0 || !Slots[0].empty();
}

Tensor& EmbeddingTable::slot(const OptimizerSpec& spec, int s) {
  if (Dynamic)
    fail("table '{}' is dynamic: its optimizer state is kept per row", Name);
  if (Slots[s].empty()) {
    Slots[s] = Tensor(Weights.shape());
    Slots[s].fill(recc::rt::initialSlotValue(spec, optimizerKind(spec.kind)));
  }
  return Slots[s];
}

std::vector<float*> EmbeddingTable::touchRows(std::span<const int64_t> ids) {
  DynamicRows& rows = *Dynamic;
  std::vector<int64_t> slots(ids.size());
  parallelChunks((int64_t)ids.size(), 256, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      slots[k] = rows.find(ids[k]);
  });
  // New rows get slots in increasing id order; only the order of slots, which
  // nothing observes, depends on it.
  std::vector<size_t> fresh;
  for (size_t k = 0; k < ids.size(); ++k)
    if (slots[k] < 0) {
      slots[k] = rows.insert(ids[k]);
      fresh.push_back(k);
    }
  std::vector<float*> records(ids.size());
  for (size_t k = 0; k < ids.size(); ++k)
    records[k] = rows.record(slots[k]);
  const int64_t d = Dim, state = d * rows.optimizerSlots();
  parallelChunks((int64_t)fresh.size(), 64, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      float* rec = records[fresh[j]];
      Init->row(ids[fresh[j]], d, rec);
      std::fill_n(rec + d, state, InitialSlot);
    }
  });
  return records;
}

namespace {

struct IdRef {
  int64_t id;
  int64_t seq;  // position among all valid ids, the tie-break for determinism
  bool operator<(const IdRef& o) const { return id != o.id ? id < o.id : seq < o.seq; }
};

/// Sorts refs (made in increasing seq order) by (id, seq): a stable LSD
/// radix sort on the id, 11 bits (2,048 counters, in L1) a pass, as many
/// passes as ids below `rows` have bits (two up to 4M rows, three up to 8G).
/// Stability keeps equal ids in seq order, so the order is the same as a
/// comparison sort's. Its cost follows the ids, not the table: the counting
/// sort it replaced zeroed and summed a counter per table row every step
/// (UMA²'s 26k history ids into 283k items: 1.1 MB, on one thread, page
/// faults included), and a comparison sort costs log(n) compares an id.
void sortByIdThenSeq(std::vector<IdRef>& refs, int64_t rows) {
  if (refs.size() < 64) {
    std::sort(refs.begin(), refs.end());
    return;
  }
  assert(refs.size() < (size_t(1) << 32));
  constexpr int kBits = 11;
  constexpr uint64_t kMask = (uint64_t(1) << kBits) - 1;
  const int bits = std::bit_width(uint64_t(std::max<int64_t>(rows - 1, 1)));
  thread_local std::vector<IdRef> scratch;  // kept between steps: no page faults
  scratch.resize(refs.size());
  for (int shift = 0; shift < bits; shift += kBits) {
    uint32_t start[kMask + 2] = {};
    for (const IdRef& r : refs)
      ++start[((uint64_t(r.id) >> shift) & kMask) + 1];
    for (uint64_t b = 0; b <= kMask; ++b)
      start[b + 1] += start[b];
    for (const IdRef& r : refs)
      scratch[start[(uint64_t(r.id) >> shift) & kMask]++] = r;
    refs.swap(scratch);
  }
}

/// The runs of `sources` in a table of `rows` rows and `dim` columns.
EmbeddingTable::RowRuns runsOf(std::span<const EmbeddingTable::RowGradients> sources,
                               int64_t rows, int64_t dim) {
  size_t total = 0;
  for (const EmbeddingTable::RowGradients& src : sources)
    total += src.ids.size();
  std::vector<IdRef> refs;
  std::vector<const float*> rowGrad;
  refs.reserve(total);
  rowGrad.reserve(total);
  for (const EmbeddingTable::RowGradients& src : sources)
    for (size_t i = 0; i < src.ids.size(); ++i)
      if (src.ids[i] >= 0) {
        assert(src.ids[i] < rows);
        refs.push_back({src.ids[i], static_cast<int64_t>(rowGrad.size())});
        rowGrad.push_back(src.grads + int64_t(i) * dim);
      }
  sortByIdThenSeq(refs, rows);
  EmbeddingTable::RowRuns runs;
  runs.grads.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i == 0 || refs[i].id != refs[i - 1].id) {
      runs.start.push_back(i);
      runs.ids.push_back(refs[i].id);
    }
    runs.grads.push_back(rowGrad[refs[i].seq]);
  }
  runs.start.push_back(refs.size());
  return runs;
}

/// out = the sum of run k's gradient rows (`dim` floats), in run order.
void sumRun(const EmbeddingTable::RowRuns& runs, size_t k, int64_t dim, float* out) {
  std::memcpy(out, runs.grads[runs.start[k]], dim * sizeof(float));
  for (size_t j = runs.start[k] + 1; j < runs.start[k + 1]; ++j)
    for (int64_t e = 0; e < dim; ++e)
      out[e] += runs.grads[j][e];
}

} // namespace

EmbeddingTable::RowRuns EmbeddingTable::sortRows(std::span<const RowGradients> sources) const {
  return runsOf(sources, Rows, Dim);
}

void EmbeddingTable::applyGradients(const RowRuns& runs, const OptimizerSpec& spec,
                                    int64_t t) {
  const int64_t d = dim();
  if (runs.ids.empty())
    return;
  const std::vector<int64_t>& runIds = runs.ids;
  const std::vector<size_t>& runStart = runs.start;

  const StepCoefficients c = StepCoefficients::at(spec, t);
  const int nslots = optimizerSlots(c.kind);
  // Where each run's row lives: its record (weights, then state), or its
  // place in the dense weights and slots.
  std::vector<float*> records;
  float *w = nullptr, *s0 = nullptr, *s1 = nullptr;
  if (Dynamic) {
    if (Dynamic->optimizerSlots() != nslots)
      fail("table '{}' keeps {} optimizer state vectors per row, but the optimizer '{}' needs {}",
           Name, Dynamic->optimizerSlots(), spec.kind, nslots);
    records = touchRows(runIds);
  } else {
    s0 = nslots > 0 ? slot(spec, 0).data() : nullptr;
    s1 = nslots > 1 ? slot(spec, 1).data() : nullptr;
    w = Weights.data();
  }
  // Chunks of 64 runs, or fewer where runs are long: a small table repeated
  // across a batch (SAR-Net's categories over 102,400 behaviour rows) has few
  // runs of thousands of rows each, which one chunk summed on one thread.
  const int64_t nruns = (int64_t)runStart.size() - 1;
  const int64_t grain =
      std::clamp<int64_t>(nruns * 4096 / std::max<int64_t>((int64_t)runStart.back(), 1), 1, 64);
  parallelChunks(nruns, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> sum;  // sized on a chunk's first repeated row only
    for (int64_t k = begin; k < end; ++k) {
      if (const int64_t a = k + kPrefetchAhead; a < end) {
        if (!records.empty()) {
          prefetchRow<true>(records[a], d * (1 + nslots));
        } else {
          const int64_t o = runIds[a] * d;
          prefetchRow<true>(w + o, d);
          if (s0) prefetchRow<true>(s0 + o, d);
          if (s1) prefetchRow<true>(s1 + o, d);
        }
      }
      // A row used once in the batch (most rows of large tables) is updated
      // from its gradient in place; repeated rows sum theirs first.
      const float* grad = runs.grads[runStart[k]];
      if (runStart[k + 1] - runStart[k] > 1) {
        sum.resize(d);
        sumRun(runs, size_t(k), d, sum.data());
        grad = sum.data();
      }
      if (!records.empty()) {
        float* rec = records[k];
        updateElements(c, rec, grad, nslots > 0 ? rec + d : nullptr,
                       nslots > 1 ? rec + 2 * d : nullptr, d);
        continue;
      }
      int64_t o = runIds[k] * d;
      updateElements(c, w + o, grad, s0 ? s0 + o : nullptr, s1 ? s1 + o : nullptr, d);
    }
  });
}

SummedRows sumRowGradients(std::span<const EmbeddingTable::RowGradients> sources,
                           int64_t rows, int64_t dim) {
  const EmbeddingTable::RowRuns runs = runsOf(sources, rows, dim);
  SummedRows out;
  out.ids = runs.ids;
  out.grads.resize(runs.ids.size() * size_t(dim));
  for (size_t k = 0; k < runs.ids.size(); ++k)
    sumRun(runs, k, dim, out.grads.data() + k * size_t(dim));
  return out;
}

} // namespace recc::rt
