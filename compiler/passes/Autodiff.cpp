// Autodiff: see the header for the algorithm. micrograd's backward() is the
// model: the traversal lives here, every rule lives with its op.
#include "compiler/passes/Autodiff.h"

#include "compiler/ops/OpDef.h"

#include <cassert>

namespace recc {

static NodeId addInferred(Graph& g, OpKind kind, std::vector<NodeId> in, Attrs attrs,
                          SourceLoc loc) {
  NodeId id = g.add(kind, std::move(in), std::move(attrs), std::move(loc));
  g.node(id).shape = inferNodeShape(g, id);
  return id;
}

/// Trainable leaves: parameters and embedding rows not frozen by the model's
/// `freeze` setting (frozen ones get no gradient at all, not a zero one).
static bool isLeaf(const Graph& g, const Binding& b) {
  return (b.role == ValueRole::Param || b.role == ValueRole::EmbeddingRows) &&
         !g.node(b.node).attrs.getInt("frozen");
}

void differentiate(Graph& g) {
  NodeId loss = kNoNode;
  for (const auto& b : g.outputs())
    if (b.role == ValueRole::Loss) loss = b.node;
  assert(loss != kNoNode && "differentiate needs a Loss output");
  g.markForwardEnd();
  size_t n = g.size();

  // Step 2: nodes on a path leaf -> loss.
  std::vector<bool> fromLeaf(n, false), toLoss(n, false);
  for (const auto& b : g.inputs())
    if (isLeaf(g, b)) fromLeaf[b.node] = true;
  for (size_t i = 0; i < n; ++i)
    for (NodeId in : g.node((NodeId)i).inputs)
      if (fromLeaf[in]) fromLeaf[i] = true;
  toLoss[loss] = true;
  for (size_t i = n; i-- > 0;)
    if (toLoss[i])
      for (NodeId in : g.node((NodeId)i).inputs) toLoss[in] = true;

  // Step 3: reverse sweep with gradient accumulation.
  std::vector<NodeId> grad(n, kNoNode);
  grad[loss] = addInferred(g, OpKind::Constant, {}, {{"value", 1.0}, {"shape", std::vector<int64_t>{}}},
                           g.node(loss).loc);
  for (size_t i = n; i-- > 0;) {
    NodeId id = (NodeId)i;
    if (grad[id] == kNoNode || !fromLeaf[id] || !toLoss[id]) continue;
    const OpDef& def = opDef(g.node(id).kind);
    if (def.notDifferentiable)
      throw AutodiffError(g.node(id).loc,
                          "cannot differentiate the loss through '" +
                              std::string(opName(g.node(id).kind)) +
                              "': it has no gradient; cut the path with stop_gradient or keep "
                              "it out of the loss");
    if (def.noGradient) continue;
    GradBuilder builder(g, id, grad[id]);
    std::vector<NodeId> dx = def.grad(builder);
    const auto inputs = g.node(id).inputs;  // copy: the rule may grow the graph
    for (size_t k = 0; k < inputs.size() && k < dx.size(); ++k) {
      NodeId in = inputs[k];
      if (dx[k] == kNoNode || !fromLeaf[in]) continue;
      grad[in] = grad[in] == kNoNode
                     ? dx[k]
                     : addInferred(g, OpKind::Add, {grad[in], dx[k]}, {}, g.node(in).loc);
    }
  }

  // Step 4: bind leaf gradients.
  std::vector<Binding> leaves;
  for (const auto& b : g.inputs())
    if (isLeaf(g, b)) leaves.push_back(b);
  for (const auto& b : leaves) {
    NodeId d = grad[b.node];
    if (d == kNoNode)
      d = addInferred(g, OpKind::Constant, {},
                      {{"value", 0.0}, {"shape", g.node(b.node).shape.dims}}, g.node(b.node).loc);
    g.addOutput(d, ValueRole::Gradient, b.name);
  }
}

} // namespace recc
