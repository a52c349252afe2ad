// StateStore: see StateStore.h. Every read of a table shadow row goes through
// one function (catchUp), so evaluation before a save and after a reload
// computes each value the same way, bit for bit.
#include "runtime/StateStore.h"

#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Parallel.h"
#include "runtime/Prefetch.h"

#include <cmath>
#include <cstring>

namespace recc::rt {
namespace {

/// float(decay^steps), the factor by which a row `steps` updates behind is
/// caught up.
float powerOf(double decay, int64_t steps) {
  return static_cast<float>(std::pow(decay, double(steps)));
}

/// Steps behind for which decayPower reads a table rather than calling pow:
/// in a step a shadow catches up every row of the batch, mostly a few steps
/// behind, and pow cost more than the row's update (DAMCAR, dim 32).
constexpr int64_t kCachedPowers = 1024;

/// dst = row + f * (shadow - row) with f = decay^steps (steps > 0; for steps
/// <= 0, dst = shadow): a dense EMA over `steps` steps in which the source row
/// stayed `row`. Not inlined, so every caller rounds the same way.
[[gnu::noinline]] void catchUp(float* dst, const float* shadow, const float* row, int64_t dim,
                               int64_t steps, float f) {
  if (steps <= 0) {
    std::memmove(dst, shadow, dim * sizeof(float));
    return;
  }
  for (int64_t k = 0; k < dim; ++k)
    dst[k] = row[k] + f * (shadow[k] - row[k]);
}

/// shadow = decay*shadow + (1-decay)*source over n elements.
void blend(float* shadow, const float* source, int64_t n, double decay) {
  const float d = static_cast<float>(decay), e = static_cast<float>(1 - decay);
  for (int64_t k = 0; k < n; ++k)
    shadow[k] = d * shadow[k] + e * source[k];
}

/// Work per chunk of the loops below, on the step's thread team.
constexpr int64_t kRowsPerChunk = 64, kElementsPerChunk = 1 << 14;

} // namespace

void StateStore::init(const ModelPlan& plan, const ParamStore& params,
                      const std::vector<EmbeddingTable>& tables) {
  Entries.clear();
  for (const StateSpec& s : plan.states) {
    Entry e{s, Tensor(s.shape), -1, {}, {}};
    if (s.kind != "ema") {
      initialize(s.init, s.name, plan.seed, e.Value);
      Entries.push_back(std::move(e));
      continue;
    }
    Shape want;
    if (s.table) {
      for (size_t t = 0; t < tables.size(); ++t)
        if (tables[t].name() == s.of)
          e.Source = int(t), want = tables[t].weights().shape();
      e.RowStep.assign(e.Source >= 0 ? tables[e.Source].rows() : 0, 0);
    } else if ((e.Source = params.indexOf(s.of)) >= 0) {
      want = params.value(e.Source).shape();
    }
    if (e.Source < 0)
      fail("model plan: state '{}' shadows unknown {} '{}'", s.name,
           s.table ? "table" : "parameter", s.of);
    if (want != s.shape)
      fail("model plan: state '{}' has shape {} but its source '{}' has {}", s.name,
           shapeString(s.shape), s.of, shapeString(want));
    if (s.table)
      for (int64_t k = 0; k < kCachedPowers; ++k)
        e.Powers.push_back(powerOf(s.decay, k));
    Entries.push_back(std::move(e));
    resetShadow(size() - 1, params, tables);
  }
}

float StateStore::decayPower(const Entry& e, int64_t steps) {
  return steps >= 0 && steps < (int64_t)e.Powers.size() ? e.Powers[steps]
                                                         : powerOf(e.Spec.decay, steps);
}

int StateStore::indexOf(const std::string& name) const {
  for (size_t i = 0; i < Entries.size(); ++i)
    if (Entries[i].Spec.name == name)
      return int(i);
  return -1;
}

int StateStore::shadowOfTable(const std::string& table) const {
  for (size_t i = 0; i < Entries.size(); ++i)
    if (Entries[i].Spec.kind == "ema" && Entries[i].Spec.table && Entries[i].Spec.of == table)
      return int(i);
  return -1;
}

StateStore::Entry* StateStore::shadowEntry(const std::string& table) {
  int i = shadowOfTable(table);
  return i < 0 ? nullptr : &Entries[i];
}

void StateStore::prefetchShadowRows(const Entry& e, const EmbeddingTable& table,
                                    std::span<const int64_t> ids, int64_t j, int64_t end) {
  if (j >= end || ids[j] < 0)
    return;
  const int64_t dim = table.dim();
  prefetchRow(e.Value.data() + ids[j] * dim, dim);
  prefetchRow(table.weights().data() + ids[j] * dim, dim);
}

void StateStore::rowsAt(int i, const EmbeddingTable& table, std::span<const int64_t> ids,
                        int64_t now, float* out) const {
  const Entry& e = Entries[i];
  const int64_t dim = table.dim();
  parallelChunks((int64_t)ids.size(), kRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      prefetchShadowRows(e, table, ids, j + kPrefetchAhead, end);
      float* dst = out + j * dim;
      const int64_t id = ids[j];
      if (id < 0) {
        std::fill_n(dst, dim, 0.0f);
        continue;
      }
      const int64_t behind = now - e.RowStep[id];
      catchUp(dst, e.Value.data() + id * dim, table.weights().data() + id * dim, dim, behind,
              decayPower(e, behind));
    }
  });
}

std::vector<float> StateStore::tableAt(int i, const EmbeddingTable& table, int64_t now) const {
  std::vector<float> out(static_cast<size_t>(table.rows() * table.dim()));
  const int64_t dim = table.dim();
  const Entry& e = Entries[i];
  for (int64_t r = 0; r < table.rows(); ++r) {
    const int64_t behind = now - e.RowStep[r];
    catchUp(out.data() + r * dim, e.Value.data() + r * dim, table.weights().data() + r * dim,
            dim, behind, decayPower(e, behind));
  }
  return out;
}

void StateStore::beforeRowUpdate(const EmbeddingTable& table, std::span<const int64_t> ids,
                                 int64_t t) {
  Entry* e = shadowEntry(table.name());
  if (!e)
    return;
  const int64_t dim = table.dim();
  // ids are distinct (StepRunner::applyTableGradients): each row is one chunk's.
  parallelChunks((int64_t)ids.size(), kRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      prefetchShadowRows(*e, table, ids, j + kPrefetchAhead, end);
      const int64_t id = ids[j];
      float* s = e->Value.data() + id * dim;
      const int64_t behind = t - 1 - e->RowStep[id];
      catchUp(s, s, table.weights().data() + id * dim, dim, behind, decayPower(*e, behind));
      e->RowStep[id] = t - 1;
    }
  });
}

void StateStore::afterRowUpdate(const EmbeddingTable& table, std::span<const int64_t> ids,
                                int64_t t) {
  Entry* e = shadowEntry(table.name());
  if (!e)
    return;
  const int64_t dim = table.dim();
  parallelChunks((int64_t)ids.size(), kRowsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      prefetchShadowRows(*e, table, ids, j + kPrefetchAhead, end);
      const int64_t id = ids[j];
      blend(e->Value.data() + id * dim, table.weights().data() + id * dim, dim, e->Spec.decay);
      e->RowStep[id] = t;
    }
  });
}

void StateStore::afterDenseUpdate(const ParamStore& params) {
  for (Entry& e : Entries)
    if (e.Spec.kind == "ema" && !e.Spec.table) {
      const float* source = params.value(e.Source).data();
      parallelChunks(e.Value.numel(), kElementsPerChunk, [&](int64_t begin, int64_t end) {
        blend(e.Value.data() + begin, source + begin, end - begin, e.Spec.decay);
      });
    }
}

void StateStore::markCurrent(int64_t now) {
  for (Entry& e : Entries)
    std::fill(e.RowStep.begin(), e.RowStep.end(), now);
}

void StateStore::resetShadow(int i, const ParamStore& params,
                             const std::vector<EmbeddingTable>& tables) {
  Entry& e = Entries[i];
  const Tensor& src = e.Spec.table ? tables[e.Source].weights() : params.value(e.Source);
  std::memcpy(e.Value.data(), src.data(), src.bytes());
}

} // namespace recc::rt
