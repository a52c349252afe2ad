// OpDef: everything the compiler knows about one op, in one record. The shape
// rule feeds ShapeInference, the reference kernel feeds the ReferenceExecutor,
// and the gradient rule feeds Autodiff. (MLIR lowerings live in compiler/mlir,
// keyed by the same OpKind, so that this library builds without MLIR headers;
// registry sweep tests check that every op has all four, the gradient rule
// possibly replaced by one of the two markers below.)
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ops/RefTensor.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace recc {

/// Thrown by a shape rule; ShapeInference reports it at the node's location.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Inputs to a shape rule.
struct ShapeCtx {
  const std::vector<Shape>& in;
  const Attrs& attrs;
};

/// Inputs and output of a reference kernel. `out` arrives with its concrete
/// shape set and data zero-filled.
struct EvalCtx {
  const std::vector<const RefTensor*>& in;
  const Attrs& attrs;
  RefTensor& out;
};

/// Builds gradient sub-graphs for one forward node. Rules use only ordinary
/// ops, appended to the same graph at the forward node's source location.
class GradBuilder {
public:
  GradBuilder(Graph& g, NodeId node, NodeId dy) : g_(g), node_(node), dy_(dy) {}

  NodeId x(int i) const { return g_.node(node_).inputs[i]; }
  NodeId y() const { return node_; }
  NodeId dy() const { return dy_; }
  const Attrs& attrs() const { return g_.node(node_).attrs; }
  const Shape& shapeOf(NodeId id) const { return g_.node(id).shape; }
  int numInputs() const { return (int)g_.node(node_).inputs.size(); }

  /// Appends `kind(inputs)` with inferred shape at the forward node's location.
  NodeId op(OpKind kind, std::vector<NodeId> inputs, Attrs attrs = {});
  NodeId mul(NodeId a, NodeId b) { return op(OpKind::Mul, {a, b}); }
  NodeId div(NodeId a, NodeId b) { return op(OpKind::Div, {a, b}); }
  NodeId add(NodeId a, NodeId b) { return op(OpKind::Add, {a, b}); }
  NodeId neg(NodeId a) { return op(OpKind::Neg, {a}); }
  NodeId scaleShift(NodeId a, double scale, double shift) {
    return op(OpKind::ScaleShift, {a}, {{"scale", scale}, {"shift", shift}});
  }
  /// `g` summed down to the shape of `like` (identity when shapes agree).
  NodeId sumTo(NodeId g, NodeId like);

private:
  Graph& g_;
  NodeId node_;
  NodeId dy_;
};

using InferFn = Shape (*)(const ShapeCtx&);
using EvalFn = void (*)(const EvalCtx&);
/// Returns one gradient per input; kNoNode where the input gets none.
using GradFn = std::vector<NodeId> (*)(GradBuilder&);

struct OpDef {
  OpKind kind;
  InferFn infer = nullptr;
  EvalFn eval = nullptr;
  GradFn grad = nullptr;
  /// Leaves and ops whose gradient is zero everywhere (step, one_hot,
  /// stop_gradient) set this instead of grad: Autodiff passes nothing back.
  bool noGradient = false;
  /// Ops with no gradient at all, not even a zero one (top_k: its output is a
  /// set of indices). Autodiff refuses a loss that depends on such an op
  /// through a differentiable path (AutodiffError at the node's location).
  bool notDifferentiable = false;
};

/// The registry: the OpDef of every op in OpList.def.
const OpDef& opDef(OpKind kind);

/// Infers the shape of node `id` from its inputs (already inferred); throws
/// ShapeError with a message naming the op and the offending shapes.
Shape inferNodeShape(const Graph& g, NodeId id);

/// numpy-style right-aligned broadcast of two shapes (batch dim matches only
/// itself); throws ShapeError when incompatible.
Shape broadcastShapes(const Shape& a, const Shape& b, const char* op);

} // namespace recc
