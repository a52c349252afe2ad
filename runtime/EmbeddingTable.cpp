// EmbeddingTable: see EmbeddingTable.h. The update sorts (id, position) pairs
// of all valid ids, so duplicates become runs; each run is summed into a
// per-thread scratch row and applied with the shared OptimizerMath kernel.
// Runs touch distinct rows, so they are updated in parallel without locks.
#include "runtime/EmbeddingTable.h"

#include "runtime/Error.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <cassert>
#include <cstring>
#include <vector>

namespace recc::rt {

EmbeddingTable::EmbeddingTable(std::string name, int64_t rows, int64_t dim)
    : Name(std::move(name)) {
  if (rows <= 0 || dim <= 0)
    fail("embedding table '{}' has invalid size {} x {}", Name, rows, dim);
  Weights = Tensor({rows, dim});
}

void EmbeddingTable::gather(std::span<const int64_t> ids, float* out) const {
  const int64_t d = dim();
  const float* w = Weights.data();
  tbb::parallel_for(tbb::blocked_range<size_t>(0, ids.size(), 512),
                    [&](const tbb::blocked_range<size_t>& r) {
                      for (size_t i = r.begin(); i < r.end(); ++i) {
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

bool EmbeddingTable::hasOptimizerState(OptimizerKind kind) const {
  return optimizerSlots(kind) == 0 || !Slots[0].empty();
}

Tensor& EmbeddingTable::slot(const OptimizerSpec& spec, int s) {
  if (Slots[s].empty()) {
    Slots[s] = Tensor(Weights.shape());
    Slots[s].fill(initialSlotValue(spec, optimizerKind(spec.kind)));
  }
  return Slots[s];
}

namespace {

struct IdRef {
  int64_t id;
  int64_t seq;  // position among all valid ids, the tie-break for determinism
  bool operator<(const IdRef& o) const { return id != o.id ? id < o.id : seq < o.seq; }
};

/// Sorts refs (made in increasing seq order) by (id, seq). When the table is
/// not much larger than the batch's ids (SAR-Net: 100k behaviour ids into 1M
/// rows, or into 400), a stable counting sort by id gives the same order in
/// O(refs + rows), several times faster than a comparison sort; otherwise
/// (a few ids into a huge table) the parallel comparison sort.
void sortByIdThenSeq(std::vector<IdRef>& refs, int64_t rows) {
  if (rows > 16 * (int64_t)refs.size()) {
    tbb::parallel_sort(refs.begin(), refs.end());
    return;
  }
  std::vector<uint32_t> start(rows + 1, 0);
  for (const IdRef& r : refs) ++start[r.id + 1];
  for (int64_t i = 0; i < rows; ++i) start[i + 1] += start[i];
  std::vector<IdRef> sorted(refs.size());
  for (const IdRef& r : refs) sorted[start[r.id]++] = r;
  refs.swap(sorted);
}

} // namespace

void EmbeddingTable::applyGradients(std::span<const RowGradients> sources,
                                    const OptimizerSpec& spec, int64_t t) {
  const int64_t d = dim();
  std::vector<IdRef> refs;
  std::vector<const float*> rowGrad;
  for (const RowGradients& src : sources)
    for (size_t i = 0; i < src.ids.size(); ++i)
      if (src.ids[i] >= 0) {
        assert(src.ids[i] < rows());
        refs.push_back({src.ids[i], static_cast<int64_t>(rowGrad.size())});
        rowGrad.push_back(src.grads + i * d);
      }
  if (refs.empty())
    return;
  sortByIdThenSeq(refs, rows());
  std::vector<size_t> runStart;
  for (size_t i = 0; i < refs.size(); ++i)
    if (i == 0 || refs[i].id != refs[i - 1].id)
      runStart.push_back(i);
  runStart.push_back(refs.size());

  const StepCoefficients c = StepCoefficients::at(spec, t);
  float* s0 = optimizerSlots(c.kind) > 0 ? slot(spec, 0).data() : nullptr;
  float* s1 = optimizerSlots(c.kind) > 1 ? slot(spec, 1).data() : nullptr;
  float* w = Weights.data();
  tbb::enumerable_thread_specific<std::vector<float>> scratch(d);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, runStart.size() - 1, 64),
                    [&](const tbb::blocked_range<size_t>& r) {
    std::vector<float>& sum = scratch.local();
    for (size_t k = r.begin(); k < r.end(); ++k) {
      std::memcpy(sum.data(), rowGrad[refs[runStart[k]].seq], d * sizeof(float));
      for (size_t j = runStart[k] + 1; j < runStart[k + 1]; ++j) {
        const float* g = rowGrad[refs[j].seq];
        for (int64_t e = 0; e < d; ++e)
          sum[e] += g[e];
      }
      int64_t o = refs[runStart[k]].id * d;
      updateElements(c, w + o, sum.data(), s0 ? s0 + o : nullptr,
                     s1 ? s1 + o : nullptr, d);
    }
  });
}

} // namespace recc::rt
