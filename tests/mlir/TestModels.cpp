// TestModels: see the header.
#include "TestModels.h"

#include "compiler/passes/Autodiff.h"
#include "compiler/passes/ShapeInference.h"
#include "dsl/Diagnostics.h"

#include <stdexcept>

namespace recc::mlirtest {

namespace {

constexpr int64_t B = kBatchDim;

struct Builder {
  Graph g;
  int line = 1;
  NodeId op(OpKind k, std::vector<NodeId> in, Attrs a = {}, std::string name = "") {
    return g.add(k, std::move(in), std::move(a), SourceLoc{"esmm.rec", line++, 3}, std::move(name));
  }
  NodeId leaf(OpKind k, ValueRole role, const std::string& name, std::vector<int64_t> shape) {
    NodeId id = op(k, {}, {{"shape", shape}}, name);
    g.addInput(id, role, name);
    return id;
  }
  NodeId dense(NodeId x, NodeId w, NodeId b) { return op(OpKind::Add, {op(OpKind::MatMul, {x, w}), b}); }
  /// Mean binary cross-entropy of probabilities p against labels y, both [B,1].
  NodeId bce(NodeId p, NodeId y) {
    NodeId pc = op(OpKind::Clamp, {p}, {{"lo", 1e-6}, {"hi", 1 - 1e-6}});
    NodeId l1 = op(OpKind::Mul, {y, op(OpKind::Log, {pc})});
    NodeId one_y = op(OpKind::ScaleShift, {y}, {{"scale", -1.0}, {"shift", 1.0}});
    NodeId one_p = op(OpKind::ScaleShift, {pc}, {{"scale", -1.0}, {"shift", 1.0}});
    NodeId l0 = op(OpKind::Mul, {one_y, op(OpKind::Log, {one_p})});
    NodeId sum = op(OpKind::Add, {l1, l0});
    return op(OpKind::Neg, {op(OpKind::ReduceMean, {sum}, {{"axes", std::vector<int64_t>{}}})});
  }
};

}  // namespace

Graph esmmLikeGraph(bool train, int64_t in, int64_t hidden) {
  Builder b;
  NodeId x = b.leaf(OpKind::Input, ValueRole::Feature, "x", {B, in});
  NodeId y1 = b.leaf(OpKind::Input, ValueRole::Label, "y1", {B, 1});
  NodeId y2 = b.leaf(OpKind::Input, ValueRole::Label, "y2", {B, 1});
  NodeId seed = b.leaf(OpKind::Input, ValueRole::Seed, "seed", {});
  NodeId w1 = b.leaf(OpKind::Param, ValueRole::Param, "w1", {in, hidden});
  NodeId b1 = b.leaf(OpKind::Param, ValueRole::Param, "b1", {hidden});
  NodeId w2 = b.leaf(OpKind::Param, ValueRole::Param, "w2", {hidden / 2, 1});
  NodeId b2 = b.leaf(OpKind::Param, ValueRole::Param, "b2", {1});
  NodeId w3 = b.leaf(OpKind::Param, ValueRole::Param, "w3", {hidden - hidden / 2, 1});
  NodeId b3 = b.leaf(OpKind::Param, ValueRole::Param, "b3", {1});

  NodeId h = b.op(OpKind::Relu, {b.dense(x, w1, b1)}, {}, "h");
  h = b.op(OpKind::Dropout, {h, seed}, {{"p", 0.25}, {"salt", int64_t(3)}});
  // Split the shared layer between the two towers (exercises slice/concat).
  NodeId ha = b.op(OpKind::Slice, {h}, {{"axis", int64_t(1)}, {"start", int64_t(0)}, {"size", hidden / 2}});
  NodeId hb = b.op(OpKind::Slice, {h}, {{"axis", int64_t(1)}, {"start", hidden / 2}, {"size", hidden - hidden / 2}});
  NodeId ctr = b.op(OpKind::Sigmoid, {b.dense(ha, w2, b2)}, {}, "ctr");
  NodeId cvr = b.op(OpKind::Sigmoid, {b.dense(hb, w3, b3)}, {}, "cvr");
  NodeId ctcvr = b.op(OpKind::Mul, {ctr, cvr}, {}, "ctcvr");
  NodeId loss = b.op(OpKind::Add, {b.bce(ctr, y1), b.bce(ctcvr, y2)}, {}, "loss");
  b.g.addOutput(ctr, ValueRole::Output, "ctr");
  b.g.addOutput(ctcvr, ValueRole::Output, "ctcvr");
  b.g.addOutput(loss, ValueRole::Loss, "loss");

  DiagnosticEngine diag;
  if (!inferShapes(b.g, diag)) throw std::runtime_error(diag.render());
  b.g.markForwardEnd();
  if (train) {
    differentiate(b.g);
    if (!inferShapes(b.g, diag)) throw std::runtime_error(diag.render());
  }
  return std::move(b.g);
}

}  // namespace recc::mlirtest
