// FactorDense: a dense layer over a concat that repeats a per-sample vector
// along the sequence axis, factored so the repeated part is multiplied once
// per sample instead of once per position.
//
// DIN's attention unit feeds concat(k, q̃, k - q̃, k * q̃) [B,L,4d] (q̃ = q
// repeated L times) to a dense layer W = [W1; W2; W3; W4]. By linearity
//   concat(k, q̃, k - q̃, k·q̃) · W = concat(k, k·q̃) · [W1 + W3; W4] + (q·(W2 - W3))~
// so the GEMM over B·L rows has K = 2d instead of 4d, and q's part is one
// [B,d]·[d,u] product broadcast over L: half the flops of the layer, forward
// and backward, and no [B,L,4d] input. The sums of W's row blocks are tiny
// [d,u] ops; autodiff carries gradients back through them to W. Results
// differ from the unfactored product only by the rounding of the regrouped
// sums (floating-point reassociation and distribution).
#include "compiler/passes/GraphBuilder.h"

#include <map>

namespace recc::buildgraph {

namespace {

/// One summand of x · W: sign · node · W[row, row + width).
struct Term {
  NodeId node;
  int64_t row, width;
  double sign;
  bool repeated;  ///< node is q [B,1,d], repeated along axis 1
};

int64_t lastAxis(const Node& n) {
  int64_t axis = n.attrs.getInt("axis");
  return axis < 0 ? axis + (int64_t)n.shape.rank() : axis;
}

} // namespace

/// Splits x [B,L,n] into terms through concats along the last axis,
/// differences of same-shaped values, and broadcast_like of [B,1,d].
static void splitTerms(const Graph& g, NodeId x, int64_t row, double sign,
                       std::vector<Term>& out) {
  const Node& n = g.node(x);
  int64_t width = n.shape.dims.back();
  if (n.kind == OpKind::Concat && lastAxis(n) == (int64_t)n.shape.rank() - 1) {
    for (NodeId part : n.inputs) {
      splitTerms(g, part, row, sign, out);
      row += g.node(part).shape.dims.back();
    }
    return;
  }
  if (n.kind == OpKind::Sub && g.node(n.inputs[0]).shape == n.shape &&
      g.node(n.inputs[1]).shape == n.shape) {
    splitTerms(g, n.inputs[0], row, sign, out);
    splitTerms(g, n.inputs[1], row, -sign, out);
    return;
  }
  if (n.kind == OpKind::BroadcastLike) {
    const Shape& q = g.node(n.inputs[0]).shape;
    if (q.rank() == 3 && q[0] == n.shape[0] && q[1] == 1 && q[2] == width) {
      out.push_back({n.inputs[0], row, width, sign, true});
      return;
    }
  }
  out.push_back({x, row, width, sign, false});
}

/// Σ sign · W[row, row + width) over `terms` (all of one node): [width,u].
static NodeId weightSum(GraphBuilder& gb, NodeId w, const std::vector<Term*>& terms,
                        const SourceLoc& loc) {
  NodeId sum = kNoNode;
  for (const Term* t : terms) {
    NodeId rows = gb.add(OpKind::Slice, {w},
                         {{"axis", int64_t(0)}, {"start", t->row}, {"size", t->width}}, loc);
    if (sum == kNoNode)
      sum = t->sign > 0 ? rows : gb.scaleShift(rows, -1, 0, loc);
    else
      sum = gb.add(t->sign > 0 ? OpKind::Add : OpKind::Sub, {sum, rows}, {}, loc);
  }
  return sum;
}

/// x [B,L,n] · w [n,u] factored as above, or kNoNode unless x is a mix of
/// repeated per-sample vectors and per-position values (otherwise the plain
/// batched GEMM is as good).
NodeId GraphBuilder::factoredDense(NodeId x, NodeId w, const SourceLoc& loc) {
  std::vector<Term> terms;
  splitTerms(g_, x, 0, 1.0, terms);
  bool repeats = false, plain = false;
  for (const Term& t : terms) (t.repeated ? repeats : plain) = true;
  if (!repeats || !plain || shapeOf(x).rank() != 3) return kNoNode;
  // Terms of one node share a weight: the node's block of W summed.
  std::map<std::pair<bool, NodeId>, std::vector<Term*>> byNode;
  std::vector<std::pair<bool, NodeId>> order;
  for (Term& t : terms) {
    auto key = std::make_pair(t.repeated, t.node);
    if (!byNode.count(key)) order.push_back(key);
    byNode[key].push_back(&t);
  }
  const Shape xs = shapeOf(x);  // a copy: add() may move the nodes
  Attrs noT{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}};
  std::vector<NodeId> parts, blocks;
  NodeId perSample = kNoNode;
  for (const auto& key : order) {
    NodeId weightBlock = weightSum(*this, w, byNode[key], loc);
    if (!key.first) {
      parts.push_back(key.second);
      blocks.push_back(weightBlock);
      continue;
    }
    const Shape q = shapeOf(key.second);
    NodeId qw = add(OpKind::MatMul, {reshape(key.second, {q[0], q[2]}, loc), weightBlock}, noT, loc);
    perSample = perSample == kNoNode ? qw : add(OpKind::Add, {perSample, qw}, {}, loc);
  }
  int64_t units = shapeOf(w).dims.back();
  NodeId repeated = reshape(perSample, {xs[0], 1, units}, loc);
  NodeId left = parts.size() == 1 ? parts[0] : add(OpKind::Concat, parts, {{"axis", int64_t(2)}}, loc);
  NodeId right = blocks.size() == 1 ? blocks[0] : add(OpKind::Concat, blocks, {{"axis", int64_t(0)}}, loc);
  return add(OpKind::Add, {add(OpKind::BatchMatMul, {left, right}, noT, loc), repeated}, {}, loc);
}

} // namespace recc::buildgraph
