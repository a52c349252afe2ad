// LowerStructure: concat, slice, zero-pad and reshape as tensor-dialect slicing
// and reshaping ops (bufferization turns them into subviews and copies),
// broadcast_like as an elementwise map, transpose as linalg.transpose, and the
// index-built tensors one_hot and causal_mask.
#include "compiler/mlir/Lowering.h"

#include <functional>

namespace recc::lower {

using namespace mlir;

static int64_t axisOf(LowerCtx& c) {
  int64_t axis = c.node.attrs.getInt("axis");
  return axis < 0 ? axis + (int64_t)c.node.shape.rank() : axis;
}

/// Static offsets/sizes/strides for a window [start, start+size) along `axis`.
static void window(LowerCtx& c, const std::vector<int64_t>& dims, int64_t axis, int64_t start,
                   SmallVector<OpFoldResult>& offsets, SmallVector<OpFoldResult>& sizes,
                   SmallVector<OpFoldResult>& strides) {
  for (size_t i = 0; i < dims.size(); ++i) {
    offsets.push_back(c.b.getIndexAttr((int64_t)i == axis ? start : 0));
    sizes.push_back(c.b.getIndexAttr(dims[i]));
    strides.push_back(c.b.getIndexAttr(1));
  }
}

/// Writes `src` into `dest` at `start` along `axis`.
static Value insertAt(LowerCtx& c, Value src, Value dest, int64_t axis, int64_t start) {
  auto st = cast<RankedTensorType>(src.getType());
  SmallVector<OpFoldResult> offsets, sizes, strides;
  window(c, std::vector<int64_t>(st.getShape().begin(), st.getShape().end()), axis, start,
         offsets, sizes, strides);
  return c.b.create<tensor::InsertSliceOp>(c.loc, src, dest, offsets, sizes, strides);
}

static Value lowerConcat(LowerCtx& c) {
  int64_t axis = axisOf(c);
  Value out = c.b.create<tensor::EmptyOp>(c.loc, c.dims(), c.b.getF32Type());
  int64_t at = 0;
  for (size_t i = 0; i < c.node.inputs.size(); ++i) {
    out = insertAt(c, c.in((int)i), out, axis, at);
    at += c.inDims((int)i)[axis];
  }
  return out;
}

static Value lowerSlice(LowerCtx& c) {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  window(c, c.dims(), axisOf(c), c.node.attrs.getInt("start"), offsets, sizes, strides);
  return c.b.create<tensor::ExtractSliceOp>(c.loc, c.tensorType(c.dims()), c.in(0), offsets,
                                            sizes, strides);
}

static Value lowerPad(LowerCtx& c) {
  Value zeros = emitFilled(c, c.dims(), 0.0);
  return insertAt(c, c.in(0), zeros, axisOf(c), c.node.attrs.getInt("before"));
}

static Value lowerReshape(LowerCtx& c) { return emitReshape(c, c.in(0), c.dims()); }

static Value lowerTranspose(LowerCtx& c) {
  std::vector<int64_t> perm = c.node.attrs.getInts("perm");
  Value init = c.b.create<tensor::EmptyOp>(c.loc, c.dims(), c.b.getF32Type());
  return c.b.create<linalg::TransposeOp>(c.loc, c.in(0), init, perm).getResult()[0];
}

/// A generic over the node's shape whose body sees only the loop indices.
static Value emitFromIndices(LowerCtx& c, ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                             const std::function<Value(OpBuilder&, Location, ValueRange)>& body) {
  std::vector<int64_t> dims = c.dims();
  int64_t rank = (int64_t)dims.size();
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(c.b.getMultiDimIdentityMap(rank));
  Value init = c.b.create<tensor::EmptyOp>(c.loc, dims, c.b.getF32Type());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return c.b
      .create<linalg::GenericOp>(c.loc, TypeRange{c.tensorType(dims)}, inputs, ValueRange{init},
                                 maps, iters,
                                 [&](OpBuilder& b, Location l, ValueRange a) {
                                   b.create<linalg::YieldOp>(l, body(b, l, a.drop_back()));
                                 })
      .getResult(0);
}

static Value oneIf(OpBuilder& b, Location l, Value cond) {
  return b.create<arith::SelectOp>(l, cond, b.create<arith::ConstantOp>(l, b.getF32FloatAttr(1)),
                                   b.create<arith::ConstantOp>(l, b.getF32FloatAttr(0)));
}

/// out[..., j] = (j == id[...]) ? 1 : 0 — ids outside [0, depth) (e.g. -1,
/// padding) give a zero row.
static Value lowerOneHot(LowerCtx& c) {
  int64_t rank = (int64_t)c.node.shape.rank();
  SmallVector<AffineExpr> lead;
  for (int64_t i = 0; i + 1 < rank; ++i) lead.push_back(c.b.getAffineDimExpr(i));
  AffineMap idMap = AffineMap::get(rank, 0, lead, c.b.getContext());
  return emitFromIndices(c, ValueRange{c.in(0)}, {idMap}, [rank](OpBuilder& b, Location l,
                                                                  ValueRange a) {
    Value id = b.create<arith::FPToSIOp>(l, b.getI64Type(), a[0]);
    Value j = b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, rank - 1));
    return oneIf(b, l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, id, j));
  });
}

/// [n, n] with 1 where col <= row.
static Value lowerCausalMask(LowerCtx& c) {
  return emitFromIndices(c, ValueRange{}, {}, [](OpBuilder& b, Location l, ValueRange) {
    Value row = b.create<linalg::IndexOp>(l, 0), col = b.create<linalg::IndexOp>(l, 1);
    return oneIf(b, l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ule, col, row));
  });
}

static Value lowerBroadcastLike(LowerCtx& c) {
  return emitMap(c, c.dims(), {c.in(0)},
                 [](OpBuilder&, Location, ValueRange a) { return a[0]; });
}

std::vector<OpLowering> structureLowerings() {
  return {
      {OpKind::Concat, lowerConcat},   {OpKind::Slice, lowerSlice},
      {OpKind::Pad, lowerPad},         {OpKind::Reshape, lowerReshape},
      {OpKind::BroadcastLike, lowerBroadcastLike},
      {OpKind::Transpose, lowerTranspose},
      {OpKind::OneHot, lowerOneHot},   {OpKind::CausalMask, lowerCausalMask},
  };
}

}  // namespace recc::lower
