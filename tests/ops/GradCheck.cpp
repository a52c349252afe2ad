// GradCheck: see the header.
#include "GradCheck.h"

#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/ops/OpDef.h"
#include "compiler/passes/Autodiff.h"
#include "compiler/passes/ShapeInference.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace recc::testing {

static RefTensor randomTensor(const std::vector<int64_t>& shape, double lo, double hi,
                              bool integer, std::mt19937& rng) {
  RefTensor t(shape);
  std::uniform_real_distribution<double> u(lo, integer ? hi + 1 : hi);
  for (auto& v : t.data) v = lo == hi ? lo : integer ? std::min(std::floor(u(rng)), hi) : u(rng);
  return t;
}

double gradCheckError(OpKind kind, const std::vector<Arg>& args, const Attrs& attrs,
                      int64_t batch, unsigned seed, double scale) {
  Graph g;
  std::vector<NodeId> operands;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = "x" + std::to_string(i);
    NodeId id = g.add(args[i].diff ? OpKind::Param : OpKind::Input, {},
                      {{"shape", args[i].shape.dims}}, {}, name);
    g.addInput(id, args[i].diff ? ValueRole::Param : ValueRole::Feature, name);
    operands.push_back(id);
  }
  NodeId y = g.add(kind, operands, attrs);
  DiagnosticEngine diag;
  if (!inferShapes(g, diag)) return INFINITY;
  NodeId r = g.add(OpKind::Input, {}, {{"shape", g.node(y).shape.dims}}, {}, "r");
  g.addInput(r, ValueRole::Feature, "r");
  NodeId prod = g.add(OpKind::Mul, {y, r});
  NodeId loss = g.add(OpKind::ReduceSum, {prod}, {{"axes", std::vector<int64_t>{}}});
  g.addOutput(loss, ValueRole::Loss, "loss");
  if (!inferShapes(g, diag)) return INFINITY;
  differentiate(g);

  std::mt19937 rng(seed);
  std::vector<RefTensor> inputs;
  for (const auto& b : g.inputs()) {
    const Node& n = g.node(b.node);
    size_t k = b.name == "r" ? args.size() : std::stoul(b.name.substr(1));
    double lo = k < args.size() ? args[k].lo : -1, hi = k < args.size() ? args[k].hi : 1;
    bool integer = k < args.size() && args[k].integer;
    inputs.push_back(randomTensor(n.shape.concrete(batch), lo, hi, integer, rng));
  }
  ReferenceExecutor exec(g);
  auto outs = exec.run(batch, inputs);
  auto lossAt = [&](const std::vector<RefTensor>& in) { return exec.run(batch, in)[0].data[0]; };

  double worst = 0;
  for (size_t o = 0; o < g.outputs().size(); ++o) {
    if (g.outputs()[o].role != ValueRole::Gradient) continue;
    const RefTensor& analytic = outs[o];
    size_t inputIndex = 0;
    for (size_t k = 0; k < g.inputs().size(); ++k)
      if (g.inputs()[k].name == g.outputs()[o].name) inputIndex = k;
    for (int64_t i = 0; i < analytic.size(); ++i) {
      const double eps = 1e-6;
      auto plus = inputs, minus = inputs;
      plus[inputIndex].data[i] += eps;
      minus[inputIndex].data[i] -= eps;
      double numeric = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      double err =
          std::fabs(analytic.data[i] - scale * numeric) / std::max(1.0, std::fabs(numeric));
      worst = std::max(worst, err);
    }
  }
  return worst;
}

} // namespace recc::testing
