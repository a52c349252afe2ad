// LowerGraph: the driver of Graph → MLIR lowering, the OpKind-keyed table of
// lowerings, and the leaf ops (inputs, params, constants).
//
// Algorithm:
//   1. Mark the nodes some graph output depends on (dead nodes are skipped).
//   2. Create `func.func @<symbol>_body(inputs..., outputs...)` on memrefs.
//   3. Bind each graph input to its argument via bufferization.to_tensor.
//   4. Walk the live nodes in order, calling each op's lowering at the node's
//      FileLineColLoc.
//   5. Store each graph output into its argument with
//      bufferization.materialize_in_destination.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/Lowering.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <array>
#include <set>

namespace recc::lower {

using namespace mlir;

// --- Leaves ------------------------------------------------------------------

static Value lowerUnboundLeaf(LowerCtx& c) {
  throw CodegenError(c.node.loc.str() + ": error: " + std::string(opName(c.node.kind)) + " '" +
                     c.node.name + "' is not bound to a graph input");
}

static Value lowerConstant(LowerCtx& c) {
  return emitFilled(c, c.dims(), c.node.attrs.getFloat("value"));
}

std::vector<OpLowering> leafLowerings() {
  return {
      {OpKind::Input, lowerUnboundLeaf},
      {OpKind::Param, lowerUnboundLeaf},
      {OpKind::Constant, lowerConstant},
  };
}

// --- The table ---------------------------------------------------------------

static const std::array<LowerFn, kNumOps>& table() {
  static const std::array<LowerFn, kNumOps> t = [] {
    std::array<LowerFn, kNumOps> t{};
    for (auto family : {leafLowerings, elementwiseLowerings, matmulLowerings,
                        routedMatmulLowerings, structureLowerings, reduceLowerings,
                        dropoutLowerings, batchRowLowerings})
      for (const OpLowering& l : family()) t[(size_t)l.kind] = l.fn;
    return t;
  }();
  return t;
}

LowerFn loweringFor(OpKind kind) { return table()[(size_t)kind]; }

// --- The driver --------------------------------------------------------------

/// Nodes that some graph output depends on.
static std::vector<bool> liveNodes(const Graph& g) {
  std::vector<bool> live(g.size(), false);
  for (const Binding& out : g.outputs()) live[out.node] = true;
  for (size_t i = g.size(); i-- > 0;)
    if (live[i])
      for (NodeId in : g.node((NodeId)i).inputs) live[in] = true;
  return live;
}

/// A compiled step binds each input stream's batch to a size; one the
/// caller gave no size for is reported at the first node that uses it.
static void checkBatchesBound(const Graph& g, const std::vector<bool>& live,
                              const rt::BatchSizes& batch) {
  for (const Node& n : g.nodes()) {
    if (!live[n.id]) continue;
    try {
      (void)n.shape.concrete(batch);
    } catch (const std::out_of_range& e) {
      throw CodegenError(n.loc.str() + ": error: '" + std::string(opName(n.kind)) +
                         "' of shape " + n.shape.str() + ": " + e.what());
    }
  }
}

static Location locOf(MLIRContext& ctx, const Node& n) {
  if (!n.loc.known()) return UnknownLoc::get(&ctx);
  return FileLineColLoc::get(&ctx, n.loc.file.empty() ? "<unknown>" : n.loc.file,
                             (unsigned)n.loc.line, (unsigned)n.loc.col);
}

static MemRefType bufferType(OpBuilder& b, const Node& n, const rt::BatchSizes& batch) {
  return MemRefType::get(n.shape.concrete(batch), b.getF32Type());
}

OwningOpRef<ModuleOp> lowerGraph(MLIRContext& ctx, const Graph& g, const rt::BatchSizes& batch,
                                 const std::string& symbol, bool notifyGradients) {
  ctx.loadDialect<func::FuncDialect, linalg::LinalgDialect, tensor::TensorDialect,
                  arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect>();
  std::vector<bool> live = liveNodes(g);
  for (const Binding& in : g.inputs()) live[in.node] = true;
  checkBatchesBound(g, live, batch);

  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());

  SmallVector<Type> argTypes;
  for (const Binding& in : g.inputs()) argTypes.push_back(bufferType(b, g.node(in.node), batch));
  for (const Binding& out : g.outputs())
    argTypes.push_back(bufferType(b, g.node(out.node), batch));
  auto fn = b.create<func::FuncOp>(b.getUnknownLoc(), bodyName(symbol),
                                   b.getFunctionType(argTypes, {}));
  module->push_back(fn);
  Block* entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);

  std::vector<Value> values(g.size());
  size_t arg = 0;
  for (const Binding& in : g.inputs()) {
    Value a = entry->getArgument(arg++);
    if (!values[in.node])
      values[in.node] = b.create<bufferization::ToTensorOp>(locOf(ctx, g.node(in.node)), a,
                                                            /*restrict=*/true);
  }

  llvm::DenseMap<Value, Value> transposed;
  std::map<std::pair<NodeId, int64_t>, std::vector<Value>> rowGroups;
  for (const Node& n : g.nodes()) {
    if (!live[n.id] || values[n.id]) continue;
    LowerFn f = loweringFor(n.kind);
    if (!f)
      throw CodegenError(n.loc.str() + ": error: op '" + std::string(opName(n.kind)) +
                         "' has no MLIR lowering");
    LowerCtx c{b, locOf(ctx, n), g, n, batch, values, &transposed, &rowGroups};
    values[n.id] = f(c);
  }

  for (const Binding& out : g.outputs()) {
    if (notifyGradients && out.role == ValueRole::Gradient)
      fn.setArgAttr(unsigned(arg), "recc.notify", b.getI64IntegerAttr(int64_t(arg)));
    Value dest = entry->getArgument(arg++);
    b.create<bufferization::MaterializeInDestinationOp>(
        locOf(ctx, g.node(out.node)), Type(), values[out.node], dest, /*restrict=*/true,
        /*writable=*/true);
  }
  b.create<func::ReturnOp>(b.getUnknownLoc());
  return module;
}

// --- Shared helpers ----------------------------------------------------------

Value emitFilled(LowerCtx& c, const std::vector<int64_t>& dims, double v) {
  Value empty = c.b.create<tensor::EmptyOp>(c.loc, dims, c.b.getF32Type());
  return c.b.create<linalg::FillOp>(c.loc, ValueRange{c.f32(v)}, ValueRange{empty})
      .getResult(0);
}

std::vector<int64_t> normalizedAxes(std::vector<int64_t> axes, int64_t rank) {
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
  for (auto& a : axes)
    if (a < 0) a += rank;
  std::set<int64_t> s(axes.begin(), axes.end());
  return {s.begin(), s.end()};
}

Value emitReshape(LowerCtx& c, Value x, const std::vector<int64_t>& dims) {
  auto t = cast<RankedTensorType>(x.getType());
  if (t.getShape() == ArrayRef<int64_t>(dims)) return x;
  auto type = c.tensorType(dims);
  if (t.getRank() == 0) return c.b.create<tensor::ExpandShapeOp>(c.loc, type, x,
                                                                ArrayRef<ReassociationIndices>{});
  if (dims.empty()) return c.b.create<tensor::CollapseShapeOp>(c.loc, type, x,
                                                              ArrayRef<ReassociationIndices>{});
  auto all = [](int64_t r) {
    ReassociationIndices g;
    for (int64_t i = 0; i < r; ++i) g.push_back(i);
    return SmallVector<ReassociationIndices>{g};
  };
  Value flat = x;
  if (t.getRank() > 1)
    flat = c.b.create<tensor::CollapseShapeOp>(c.loc, c.tensorType({t.getNumElements()}), x,
                                               all(t.getRank()));
  if (dims.size() == 1) return flat;
  return c.b.create<tensor::ExpandShapeOp>(c.loc, type, flat, all((int64_t)dims.size()));
}

}  // namespace recc::lower

namespace recc {
bool hasMlirLowering(OpKind kind) { return lower::loweringFor(kind) != nullptr; }
}  // namespace recc
