// JitCompare: see the header.
#include "JitCompare.h"

#include "compiler/passes/Autodiff.h"
#include "compiler/passes/ShapeInference.h"

#include <cmath>
#include <vector>
#include <random>
#include <stdexcept>

namespace recc::mlirtest {

Mismatch compareWithReference(const Graph& g, int64_t batch,
                              const std::map<std::string, Range>& ranges,
                              const JitOptions& options, Tolerance tol, unsigned seed) {
  auto step = compileJit(g, batch, options);
  return compareRun(
      g, batch, [&](float* const* buffers) { step->run(batch, buffers); }, ranges, tol, seed);
}

std::vector<std::vector<float>> runJit(const Graph& g, int64_t batch,
                                       const std::vector<std::vector<float>>& inputs,
                                       const JitOptions& options) {
  auto step = compileJit(g, batch, options);
  std::vector<std::vector<float>> buffers = inputs;
  for (const Binding& b : g.outputs())
    buffers.emplace_back(g.node(b.node).shape.numElements(batch), NAN);
  std::vector<float*> ptrs;
  for (auto& b : buffers) ptrs.push_back(b.data());
  step->run(batch, ptrs.data());
  return {buffers.begin() + (long)inputs.size(), buffers.end()};
}

Graph opGraph(OpKind kind, const std::vector<Shape>& shapes, const Attrs& attrs, bool withGrad,
              const std::vector<bool>& differentiable) {
  Graph g;
  std::vector<NodeId> args;
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string name = "x" + std::to_string(i);
    bool diff = withGrad && (differentiable.empty() || differentiable[i]);
    NodeId id = g.add(diff ? OpKind::Param : OpKind::Input, {}, {{"shape", shapes[i].dims}},
                      SourceLoc{"op.rec", 1, (int)i + 1}, name);
    g.addInput(id, diff ? ValueRole::Param : ValueRole::Feature, name);
    args.push_back(id);
  }
  NodeId y = g.add(kind, args, attrs, SourceLoc{"op.rec", 2, 3}, "y");
  DiagnosticEngine diag;
  if (!inferShapes(g, diag)) throw std::runtime_error("shape inference failed: " + diag.render());
  g.addOutput(y, ValueRole::Output, "y");
  if (!withGrad) return g;
  NodeId r = g.add(OpKind::Input, {}, {{"shape", g.node(y).shape.dims}}, {}, "r");
  g.addInput(r, ValueRole::Feature, "r");
  NodeId prod = g.add(OpKind::Mul, {y, r});
  NodeId loss = g.add(OpKind::ReduceSum, {prod}, {{"axes", std::vector<int64_t>{}}});
  g.addOutput(loss, ValueRole::Loss, "loss");
  if (!inferShapes(g, diag)) throw std::runtime_error("shape inference failed: " + diag.render());
  g.markForwardEnd();
  differentiate(g);
  if (!inferShapes(g, diag)) throw std::runtime_error("shape inference failed: " + diag.render());
  return g;
}

}  // namespace recc::mlirtest
