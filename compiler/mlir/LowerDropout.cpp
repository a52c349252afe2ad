// LowerDropout: inverted dropout with the counter-based mask of
// compiler/ops/Random.h. The body emits exactly the 32-bit integer operations
// of dropoutHash (wrapping muls, xor-shifts) on the row-major flat index from
// linalg.index, so masks are bit-identical to the reference executor's. With a
// BatchSlice operand the index is the element's place in the global batch
// (compiler/ops/Dropout.cpp).
#include "compiler/mlir/Lowering.h"
#include "compiler/ops/Random.h"

namespace recc::lower {

using namespace mlir;

static Value i32(OpBuilder& b, Location l, uint32_t v) {
  return b.create<arith::ConstantOp>(l, b.getI32IntegerAttr((int32_t)v));
}

/// x ^= x >> s
static Value xorShift(OpBuilder& b, Location l, Value x, uint32_t s) {
  return b.create<arith::XOrIOp>(l, x, b.create<arith::ShRUIOp>(l, x, i32(b, l, s)));
}

/// dropoutHash(seed, salt, index) on i32 values.
static Value hash(OpBuilder& b, Location l, Value seed, uint32_t salt, Value index) {
  Value x = b.create<arith::MulIOp>(l, index, i32(b, l, kHashIndexMul));
  x = b.create<arith::AddIOp>(l, x, b.create<arith::MulIOp>(l, seed, i32(b, l, kHashSeedMul)));
  x = b.create<arith::AddIOp>(l, x, i32(b, l, salt * kHashSaltMul));
  x = xorShift(b, l, x, 16);
  x = b.create<arith::MulIOp>(l, x, i32(b, l, kHashMix1));
  x = xorShift(b, l, x, 15);
  x = b.create<arith::MulIOp>(l, x, i32(b, l, kHashMix2));
  return xorShift(b, l, x, 16);
}

/// Element `i` of the BatchSlice vector, as an index.
static Value sliceEntry(LowerCtx& c, int64_t i) {
  Value at = c.b.create<arith::ConstantIndexOp>(c.loc, i);
  Value v = c.b.create<tensor::ExtractOp>(c.loc, c.in(2), ValueRange{at});
  Value n = c.b.create<arith::FPToSIOp>(c.loc, c.b.getI64Type(), v);
  return c.b.create<arith::IndexCastOp>(c.loc, c.b.getIndexType(), n);
}

static Value lowerDropout(LowerCtx& c) {
  std::vector<int64_t> dims = c.dims();
  double p = c.node.attrs.getFloat("p");
  uint32_t salt = (uint32_t)c.node.attrs.getInt("salt");
  uint32_t threshold = dropoutThreshold(p);
  float scale = (float)(1.0 / (1.0 - p));
  const bool sliced = c.node.inputs.size() > 2;
  const size_t axis = (size_t)c.node.attrs.getInt("batch_axis", 0);
  Value first = sliced ? sliceEntry(c, 0) : Value(), rows = sliced ? sliceEntry(c, 1) : Value();
  return emitMap(c, dims, {c.in(0), c.in(1)}, [&](OpBuilder& b, Location l, ValueRange a) {
    // Row-major flat index of this element (in the global batch when
    // sliced), truncated to 32 bits like the reference's (uint32_t)index.
    Value flat = b.create<arith::ConstantIndexOp>(l, 0);
    for (size_t d = 0; d < dims.size(); ++d) {
      const bool batch = sliced && d == axis;
      Value ext = batch ? rows : b.create<arith::ConstantIndexOp>(l, dims[d]).getResult();
      Value at = b.create<linalg::IndexOp>(l, d);
      if (batch) at = b.create<arith::AddIOp>(l, at, first);
      flat = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, flat, ext), at);
    }
    Value index = b.create<arith::IndexCastOp>(l, b.getI32Type(), flat);
    Value seed64 = b.create<arith::FPToSIOp>(l, b.getI64Type(), a[1]);
    Value seed = b.create<arith::TruncIOp>(l, b.getI32Type(), seed64);
    Value h = hash(b, l, seed, salt, index);
    Value top = b.create<arith::ShRUIOp>(l, h, i32(b, l, 8));
    Value keep = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::uge, top, i32(b, l, threshold));
    Value kept = b.create<arith::MulFOp>(l, a[0], b.create<arith::ConstantOp>(
                                                      l, b.getF32FloatAttr(scale)));
    Value zero = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(0.0f));
    return b.create<arith::SelectOp>(l, keep, kept, zero).getResult();
  });
}

std::vector<OpLowering> dropoutLowerings() { return {{OpKind::Dropout, lowerDropout}}; }

}  // namespace recc::lower
