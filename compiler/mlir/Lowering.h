// Lowering: Graph → one MLIR `func.func` on tensors with static shapes (the
// batch bound to a number), built from linalg, tensor, arith and math ops.
//
// Every op has exactly one lowering function, registered in a table keyed by
// OpKind; each op family (elementwise, matmul, structure, reductions, dropout,
// leaves) contributes its entries from its own file. A lowering receives the
// already-lowered operands and returns the node's value as a ranked tensor.
//
// The function takes graph inputs then graph outputs as memref arguments
// (the ABI is the StepSpec buffer order): inputs enter tensor land through
// `bufferization.to_tensor restrict`, outputs leave through
// `bufferization.materialize_in_destination`, so one-shot bufferization can
// write results straight into the caller's buffers.
#pragma once

#include "compiler/ir/Graph.h"

#include "llvm/ADT/DenseMap.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace recc::lower {

/// Everything a lowering function sees: the builder positioned in the function
/// body, the node with its location, and the lowered values of earlier nodes.
struct LowerCtx {
  mlir::OpBuilder& b;
  mlir::Location loc;
  const Graph& graph;
  const Node& node;
  const rt::BatchSizes& batch;  ///< each input stream's rows (B, B1, ...)
  const std::vector<mlir::Value>& values;
  /// Matrices already transposed in the function (emitTransposed), so that a
  /// weight used by several matmuls (shared towers, the data gradient of
  /// each use) is transposed once; null: no reuse.
  llvm::DenseMap<mlir::Value, mlir::Value>* transposed = nullptr;
  /// Where the rows of routed matmuls go (LowerRoutedMatMul.cpp), by the ids'
  /// node and the number of matrices: placed once for all the step's routed
  /// matmuls on the same ids; null: no reuse.
  std::map<std::pair<NodeId, int64_t>, std::vector<mlir::Value>>* rowGroups = nullptr;

  /// The lowered value of the node's i-th operand.
  mlir::Value in(int i) const { return values[node.inputs[i]]; }
  /// Concrete extents of the node's own shape / of its i-th operand.
  std::vector<int64_t> dims() const { return node.shape.concrete(batch); }
  std::vector<int64_t> inDims(int i) const {
    return graph.node(node.inputs[i]).shape.concrete(batch);
  }
  mlir::RankedTensorType tensorType(const std::vector<int64_t>& d) const {
    return mlir::RankedTensorType::get(d, b.getF32Type());
  }
  mlir::Value f32(double v) const {
    return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr((float)v));
  }
};

/// Produces the node's value; returns a null Value with an error emitted at
/// ctx.loc if the node cannot be lowered.
using LowerFn = mlir::Value (*)(LowerCtx&);

struct OpLowering {
  OpKind kind;
  LowerFn fn;
};

/// Per-family tables, concatenated into the registry by lowerGraph.
std::vector<OpLowering> leafLowerings();
std::vector<OpLowering> elementwiseLowerings();
std::vector<OpLowering> matmulLowerings();
std::vector<OpLowering> routedMatmulLowerings();
std::vector<OpLowering> structureLowerings();
std::vector<OpLowering> reduceLowerings();
std::vector<OpLowering> dropoutLowerings();
std::vector<OpLowering> batchRowLowerings();

/// The lowering of `kind`, or nullptr.
LowerFn loweringFor(OpKind kind);

// --- Shared builders (LowerHelpers in LowerElementwise.cpp) -----------------

/// Scalar body of a map: gets the operand elements (and the builder at the
/// body's insertion point), returns the result element.
using ScalarFn =
    std::function<mlir::Value(mlir::OpBuilder&, mlir::Location, mlir::ValueRange)>;

/// An elementwise linalg.generic producing a tensor of extents `outDims` from
/// `operands`, each broadcast numpy-style (right-aligned, extent-1 axes and
/// missing leading axes repeat). Broadcast axes are collapsed away first, so
/// every indexing map is a projected permutation (which vectorizes).
mlir::Value emitMap(LowerCtx& c, const std::vector<int64_t>& outDims,
                    std::vector<mlir::Value> operands, const ScalarFn& body);

/// Drops the extent-1 axes of `v` that are not listed in `kept` (sorted), so
/// an indexing map can skip them and stay a projected permutation.
mlir::Value emitDropUnitAxes(LowerCtx& c, mlir::Value v, const llvm::SmallVector<int64_t>& kept);

/// Sums `x` over `axes` (sorted) to a tensor without those axes.
mlir::Value emitSum(LowerCtx& c, mlir::Value x, const std::vector<int64_t>& axes);

/// Reshapes a contiguous tensor to `dims` (same element count) with
/// collapse_shape/expand_shape.
mlir::Value emitReshape(LowerCtx& c, mlir::Value x, const std::vector<int64_t>& dims);

/// `m` with its last two axes swapped — the transpose of a matrix, or of each
/// matrix of a batch — materialized with linalg.transpose (in LowerMatMul.cpp),
/// or the transpose of `m` made earlier in the same block.
mlir::Value emitTransposed(LowerCtx& c, mlir::Value m);

/// A tensor of extents `dims` filled with `v`.
mlir::Value emitFilled(LowerCtx& c, const std::vector<int64_t>& dims, double v);

/// Row-parallel loops (in LowerRoutedMatMul.cpp). inHalves runs
/// `part(b, l, offset, acc)` once on all of `acc`, or, when `axis` >= 0, on
/// the two halves of `acc` along `axis` (its extent even), each in one
/// iteration of an scf.forall (two threads; scf-forall-to-for makes it a loop
/// when there is one): `offset` is where the half starts, `acc` the half.
using PartFn = llvm::function_ref<mlir::Value(mlir::OpBuilder&, mlir::Location,
                                              mlir::Value offset, mlir::Value acc)>;
mlir::Value inHalves(LowerCtx& c, mlir::Value acc, int64_t axis, PartFn part);
/// The axis of `dims` to halve for two threads: the first of `axes` with an
/// even extent of at least 2, or -1.
int64_t evenAxis(llvm::ArrayRef<int64_t> dims, std::initializer_list<int64_t> axes);
/// acc = body(row, acc) for row = 0 .. rows-1 (scf.for on tensors).
mlir::Value forRows(mlir::OpBuilder& b, mlir::Location l, int64_t rows, mlir::Value acc,
                    llvm::function_ref<mlir::Value(mlir::OpBuilder&, mlir::Location,
                                                   mlir::Value row, mlir::Value acc)> body);

/// Rows of `table` [V,N] picked by `ids` (f32, B of them, any shape): row b is
/// table[id_b], zeros where id_b (truncated) is outside [0, depth) — what
/// matmul(one_hot(ids, depth), table) computes (in LowerRoutedMatMul.cpp).
mlir::Value emitRowsOf(LowerCtx& c, mlir::Value table, mlir::Value ids, int64_t depth);

/// Axes normalized against `rank` (negative counts from the back), sorted,
/// de-duplicated; empty means all axes.
std::vector<int64_t> normalizedAxes(std::vector<int64_t> axes, int64_t rank);

/// Lowers the graph into a new module holding `func.func @<symbol>_body`.
/// With `notifyGradients`, each Gradient output's argument is marked for
/// recc-notify-outputs with its buffer index. Throws CodegenError (with the
/// node's location) if a node cannot be lowered.
mlir::OwningOpRef<mlir::ModuleOp> lowerGraph(mlir::MLIRContext& ctx, const Graph& graph,
                                              const rt::BatchSizes& batch,
                                              const std::string& symbol,
                                              bool notifyGradients = false);

/// The name of the lowered (bare-pointer) function for a step symbol.
inline std::string bodyName(const std::string& symbol) { return symbol + "_body"; }

}  // namespace recc::lower
