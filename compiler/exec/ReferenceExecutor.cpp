// ReferenceExecutor: topological interpretation with early freeing of values
// no later node reads, so whole-model training fits in memory at real sizes.
#include "compiler/exec/ReferenceExecutor.h"

#include "compiler/ir/GraphStats.h"
#include "compiler/ops/OpDef.h"

#include <fmt/format.h>

namespace recc {

ReferenceExecutor::ReferenceExecutor(const Graph& graph) : graph_(graph) {
  size_t n = graph.size();
  live_.assign(n, false);
  lastUse_.assign(n, -1);
  for (const auto& b : graph.outputs()) live_[b.node] = true;
  for (size_t i = n; i-- > 0;)
    if (live_[i])
      for (NodeId in : graph.node((NodeId)i).inputs) live_[in] = true;
  for (size_t i = 0; i < n; ++i)
    if (live_[i])
      for (NodeId in : graph.node((NodeId)i).inputs) lastUse_[in] = (int)i;
  for (const auto& b : graph.outputs()) lastUse_[b.node] = (int)n;  // keep outputs
}

std::vector<RefTensor> ReferenceExecutor::run(const rt::BatchSizes& batch,
                                              const std::vector<RefTensor>& inputs) const {
  const auto& bindings = graph_.inputs();
  if (inputs.size() != bindings.size())
    throw std::runtime_error(fmt::format("reference executor: {} inputs given, graph has {}",
                                         inputs.size(), bindings.size()));
  std::vector<RefTensor> values(graph_.size());
  std::vector<bool> bound(graph_.size(), false);
  for (size_t k = 0; k < bindings.size(); ++k) {
    const Node& n = graph_.node(bindings[k].node);
    auto want = n.shape.concrete(batch);
    if (inputs[k].shape != want)
      throw std::runtime_error(fmt::format("input '{}' has shape {}, expected {}",
                                           bindings[k].name, inputs[k].shapeStr(),
                                           RefTensor(want).shapeStr()));
    values[n.id] = inputs[k];
    bound[n.id] = true;
  }
  std::vector<const RefTensor*> args;
  for (size_t i = 0; i < graph_.size(); ++i) {
    if (!live_[i] || bound[i]) continue;
    const Node& n = graph_.node((NodeId)i);
    if (n.kind == OpKind::Input || n.kind == OpKind::Param)
      throw std::runtime_error(fmt::format("graph input '{}' is not bound", n.name));
    args.clear();
    for (NodeId in : n.inputs) args.push_back(&values[in]);
    values[i] = RefTensor(n.shape.concrete(batch));
    opDef(n.kind).eval(EvalCtx{args, n.attrs, values[i]});
    for (NodeId in : n.inputs)
      if (lastUse_[in] == (int)i && !bound[in]) values[in] = RefTensor();
  }
  std::vector<RefTensor> out;
  for (const auto& b : graph_.outputs()) out.push_back(values[b.node]);
  return out;
}

namespace {
class RefStep final : public rt::StepFunction {
public:
  RefStep(const Graph& g, const rt::BatchSizes& batch)
      : graph_(g), exec_(graph_),
        // The run's values are doubles.
        working_(batch.largest() > 0 ? peakLiveBytes(graph_, batch.largest(), sizeof(double))
                                     : 0) {}

  int64_t workingBytes() const override { return working_; }

  void run(const rt::BatchSizes& batch, float* const* buffers) override {
    const auto& ins = graph_.inputs();
    std::vector<RefTensor> inputs;
    inputs.reserve(ins.size());
    for (size_t k = 0; k < ins.size(); ++k) {
      RefTensor t(graph_.node(ins[k].node).shape.concrete(batch));
      for (int64_t i = 0; i < t.size(); ++i) t.data[i] = buffers[k][i];
      inputs.push_back(std::move(t));
    }
    auto outs = exec_.run(batch, inputs);
    for (size_t k = 0; k < outs.size(); ++k) {
      float* dst = buffers[ins.size() + k];
      for (int64_t i = 0; i < outs[k].size(); ++i) dst[i] = (float)outs[k].data[i];
    }
  }

private:
  Graph graph_;
  ReferenceExecutor exec_;
  int64_t working_;
};
} // namespace

std::unique_ptr<rt::StepFunction> makeReferenceStep(const Graph& graph,
                                                   const rt::BatchSizes& batch) {
  return std::make_unique<RefStep>(graph, batch);
}

} // namespace recc
