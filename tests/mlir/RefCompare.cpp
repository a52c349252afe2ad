// RefCompare: the MLIR-free half of JitCompare.h (reference vs any runner).
#include "JitCompare.h"

#include "compiler/exec/ReferenceExecutor.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace recc::mlirtest {

Mismatch compareRun(const Graph& g, int64_t batch, const std::function<void(float* const*)>& run,
                    const std::map<std::string, Range>& ranges, Tolerance tol, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<RefTensor> refIn;
  std::vector<std::vector<float>> buffers;
  for (const Binding& b : g.inputs()) {
    RefTensor t(g.node(b.node).shape.concrete(batch));
    auto it = ranges.find(b.name);
    Range r = it == ranges.end() ? Range{} : it->second;
    std::uniform_real_distribution<double> u(r.lo, r.integer ? r.hi + 1 : r.hi);
    std::vector<float> buf(t.data.size());
    for (size_t i = 0; i < t.data.size(); ++i) {
      double v = r.lo == r.hi ? r.lo : u(rng);
      if (r.integer) v = std::min(std::floor(v), r.hi);
      // Round through float so both executors see the very same values.
      buf[i] = (float)v;
      t.data[i] = buf[i];
    }
    refIn.push_back(std::move(t));
    buffers.push_back(std::move(buf));
  }
  std::vector<RefTensor> refOut = ReferenceExecutor(g).run(batch, refIn);
  for (const Binding& b : g.outputs())
    buffers.emplace_back(g.node(b.node).shape.numElements(batch), NAN);

  std::vector<float*> ptrs;
  for (auto& b : buffers) ptrs.push_back(b.data());
  run(ptrs.data());

  Mismatch m;
  size_t first = g.inputs().size();
  for (size_t o = 0; o < g.outputs().size(); ++o) {
    const auto& jit = buffers[first + o];
    const auto& ref = refOut[o].data;
    for (size_t i = 0; i < ref.size(); ++i) {
      double err = std::fabs((double)jit[i] - ref[i]);
      double score = err / (tol.atol + tol.rtol * std::fabs(ref[i]));
      if (std::isnan(jit[i]) != std::isnan(ref[i])) score = INFINITY;
      else if (std::isnan(jit[i]) || jit[i] == ref[i]) score = 0;  // both NaN, or equal infinities
      else if (std::isnan(score)) score = INFINITY;
      if (score > m.worst || (std::isinf(score) && m.ok)) {
        m.worst = score;
        m.where = "output '" + g.outputs()[o].name + "' [" + std::to_string(i) + "]: jit " +
                  std::to_string(jit[i]) + " vs ref " + std::to_string(ref[i]);
      }
      if (!(score <= 1)) m.ok = false;
    }
  }
  return m;
}

}  // namespace recc::mlirtest
