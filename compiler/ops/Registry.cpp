// Registry: op names from OpList.def and the table of OpDefs gathered from the
// family files. A missing or duplicated entry is a programming error caught on
// first use (and by tests/ops/registry_test.cpp).
#include "compiler/ops/OpHelpers.h"

#include <array>
#include <cassert>
#include <cstdlib>
#include <iostream>

namespace recc {

namespace {
struct NameEntry {
  std::string_view name;
  int arity;
};
constexpr NameEntry kNames[] = {
#define OP(Enum, Name, Arity) {Name, Arity},
#include "compiler/ops/OpList.def"
#undef OP
};

using Table = std::array<OpDef, kNumOps>;

Table buildTable() {
  Table table{};
  std::array<bool, kNumOps> seen{};
  auto take = [&](std::vector<OpDef> defs) {
    for (auto& d : defs) {
      size_t k = (size_t)d.kind;
      if (seen[k]) {
        std::cerr << "internal error: op '" << kNames[k].name << "' registered twice\n";
        std::abort();
      }
      seen[k] = true;
      table[k] = d;
    }
  };
  take(ophelpers::leafOps());
  take(ophelpers::elementwiseOps());
  take(ophelpers::matmulOps());
  take(ophelpers::routedMatmulOps());
  take(ophelpers::structureOps());
  take(ophelpers::reduceOps());
  take(ophelpers::randomOps());
  take(ophelpers::gradientFlowOps());
  take(ophelpers::batchRowOps());
  for (size_t k = 0; k < kNumOps; ++k) {
    if (!seen[k]) {
      std::cerr << "internal error: op '" << kNames[k].name << "' has no OpDef\n";
      std::abort();
    }
  }
  return table;
}
} // namespace

std::string_view opName(OpKind kind) { return kNames[(size_t)kind].name; }
int opArity(OpKind kind) { return kNames[(size_t)kind].arity; }

bool opFromName(std::string_view name, OpKind& out) {
  for (size_t k = 0; k < kNumOps; ++k) {
    if (kNames[k].name == name) {
      out = (OpKind)k;
      return true;
    }
  }
  return false;
}

const OpDef& opDef(OpKind kind) {
  static const Table table = buildTable();
  return table[(size_t)kind];
}

Shape inferNodeShape(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  int arity = opArity(n.kind);
  if (arity >= 0 && (int)n.inputs.size() != arity)
    throw ShapeError(fmt::format("'{}' takes {} operand(s), got {}", opName(n.kind), arity,
                                 n.inputs.size()));
  std::vector<Shape> in;
  in.reserve(n.inputs.size());
  for (NodeId i : n.inputs) in.push_back(g.node(i).shape);
  return opDef(n.kind).infer(ShapeCtx{in, n.attrs});
}

Shape broadcastShapes(const Shape& a, const Shape& b, const char* op) {
  size_t rank = std::max(a.rank(), b.rank());
  Shape out;
  out.dims.resize(rank);
  int batchDims = 0;
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.rank() ? 1 : a[i - (rank - a.rank())];
    int64_t db = i < rank - b.rank() ? 1 : b[i - (rank - b.rank())];
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else
      throw ShapeError(fmt::format("cannot {} values of shape {} and {}", op, a.str(), b.str()));
    if (isBatchDim(d)) ++batchDims;
    out.dims[i] = d;
  }
  if (batchDims > 1)
    throw ShapeError(fmt::format(
        "cannot {} values of shape {} and {}: broadcasting would pair the batch with itself "
        "(result {}); make the shapes agree",
        op, a.str(), b.str(), out.str()));
  return out;
}

NodeId GradBuilder::op(OpKind kind, std::vector<NodeId> inputs, Attrs attrs) {
  NodeId id = g_.add(kind, std::move(inputs), std::move(attrs), g_.node(node_).loc);
  g_.node(id).shape = inferNodeShape(g_, id);
  return id;
}

NodeId GradBuilder::sumTo(NodeId grad, NodeId like) {
  if (shapeOf(grad) == shapeOf(like)) return grad;
  return op(OpKind::SumTo, {grad, like});
}

} // namespace recc
