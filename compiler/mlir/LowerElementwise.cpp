// LowerElementwise: unary maps, broadcasting binary arithmetic and the
// forward-identity ops (stop_gradient, grad_reverse) as
// linalg.generic ops with scalar arith/math bodies, plus emitMap, the shared
// builder of broadcasting elementwise generics. Bodies follow the reference
// kernels in compiler/ops/Elementwise.cpp, including their numerically stable
// forms (sigmoid and softplus never overflow exp).
#include "compiler/mlir/Lowering.h"

#include "mlir/Dialect/Math/IR/Math.h"

namespace recc::lower {

using namespace mlir;

Value emitDropUnitAxes(LowerCtx& c, Value v, const SmallVector<int64_t>& kept) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    pending.push_back(i);
    if (llvm::is_contained(kept, i)) {
      groups.push_back(pending);
      pending.clear();
      dims.push_back(t.getDimSize(i));
    }
  }
  if (!pending.empty() && !groups.empty()) groups.back().append(pending);
  return c.b.create<tensor::CollapseShapeOp>(c.loc, c.tensorType({dims.begin(), dims.end()}), v,
                                             groups);
}

Value emitMap(LowerCtx& c, const std::vector<int64_t>& outDims, std::vector<Value> operands,
              const ScalarFn& body) {
  OpBuilder& b = c.b;
  int64_t rank = (int64_t)outDims.size();
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : operands) {
    auto t = cast<RankedTensorType>(v.getType());
    int64_t off = rank - t.getRank();
    assert(off >= 0 && "operand of higher rank than the result");
    SmallVector<int64_t> kept;
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < t.getRank(); ++i) {
      if (t.getDimSize(i) == 1 && outDims[i + off] != 1) continue;
      kept.push_back(i);
      exprs.push_back(b.getAffineDimExpr(i + off));
    }
    if ((int64_t)kept.size() != t.getRank()) v = emitDropUnitAxes(c, v, kept);
    maps.push_back(AffineMap::get(rank, 0, exprs, b.getContext()));
    ins.push_back(v);
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = b.create<tensor::EmptyOp>(c.loc, outDims, b.getF32Type());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto op = b.create<linalg::GenericOp>(
      c.loc, TypeRange{c.tensorType(outDims)}, ins, ValueRange{init}, maps, iters,
      [&](OpBuilder& nb, Location l, ValueRange args) {
        Value y = body(nb, l, args.drop_back());
        nb.create<linalg::YieldOp>(l, y);
      });
  return op.getResult(0);
}

// --- Scalar bodies -----------------------------------------------------------

static Value cst(OpBuilder& b, Location l, double v) {
  return b.create<arith::ConstantOp>(l, b.getF32FloatAttr((float)v));
}

/// Lowers a unary node with the scalar function `f(b, loc, x, attrs)`.
template <Value (*F)(OpBuilder&, Location, Value, const Attrs&)>
static Value unary(LowerCtx& c) {
  const Attrs& attrs = c.node.attrs;
  return emitMap(c, c.dims(), {c.in(0)}, [&](OpBuilder& b, Location l, ValueRange a) {
    return F(b, l, a[0], attrs);
  });
}

static Value fNeg(OpBuilder& b, Location l, Value x, const Attrs&) {
  return b.create<arith::NegFOp>(l, x);
}
static Value fRelu(OpBuilder& b, Location l, Value x, const Attrs&) {
  Value pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, cst(b, l, 0));
  return b.create<arith::SelectOp>(l, pos, x, cst(b, l, 0));
}
/// e = exp(-|x|); s = 1/(1+e); sigmoid = x >= 0 ? s : e*s.
static Value fSigmoid(OpBuilder& b, Location l, Value x, const Attrs&) {
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, b.create<math::AbsFOp>(l, x)));
  Value s = b.create<arith::DivFOp>(l, cst(b, l, 1), b.create<arith::AddFOp>(l, cst(b, l, 1), e));
  Value nonneg = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, x, cst(b, l, 0));
  return b.create<arith::SelectOp>(l, nonneg, s, b.create<arith::MulFOp>(l, e, s));
}
static Value fTanh(OpBuilder& b, Location l, Value x, const Attrs&) {
  return b.create<math::TanhOp>(l, x);
}
static Value fExp(OpBuilder& b, Location l, Value x, const Attrs&) {
  return b.create<math::ExpOp>(l, x);
}
static Value fLog(OpBuilder& b, Location l, Value x, const Attrs&) {
  return b.create<math::LogOp>(l, x);
}
/// max(x, 0) + log1p(exp(-|x|)).
static Value fSoftplus(OpBuilder& b, Location l, Value x, const Attrs&) {
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, b.create<math::AbsFOp>(l, x)));
  Value m = b.create<arith::MaximumFOp>(l, x, cst(b, l, 0));
  return b.create<arith::AddFOp>(l, m, b.create<math::Log1pOp>(l, e));
}
static Value fStep(OpBuilder& b, Location l, Value x, const Attrs&) {
  Value pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, cst(b, l, 0));
  return b.create<arith::SelectOp>(l, pos, cst(b, l, 1), cst(b, l, 0));
}
static Value fClamp(OpBuilder& b, Location l, Value x, const Attrs& a) {
  Value lo = b.create<arith::MaximumFOp>(l, x, cst(b, l, a.getFloat("lo")));
  return b.create<arith::MinimumFOp>(l, lo, cst(b, l, a.getFloat("hi")));
}
static Value fScaleShift(OpBuilder& b, Location l, Value x, const Attrs& a) {
  double scale = a.getFloat("scale", 1), shift = a.getFloat("shift", 0);
  Value y = x;
  if (scale != 1) y = b.create<arith::MulFOp>(l, y, cst(b, l, scale));
  if (shift != 0) y = b.create<arith::AddFOp>(l, y, cst(b, l, shift));
  return y;
}

template <typename ArithOp>
static Value binary(LowerCtx& c) {
  return emitMap(c, c.dims(), {c.in(0), c.in(1)}, [](OpBuilder& b, Location l, ValueRange a) {
    return b.create<ArithOp>(l, a[0], a[1]).getResult();
  });
}

/// stop_gradient and grad_reverse are the identity in the forward pass (their
/// effect is on the gradient graph, which Autodiff builds from other ops).
static Value identity(LowerCtx& c) { return c.in(0); }

std::vector<OpLowering> elementwiseLowerings() {
  return {
      {OpKind::Neg, unary<fNeg>},
      {OpKind::Relu, unary<fRelu>},
      {OpKind::Sigmoid, unary<fSigmoid>},
      {OpKind::Tanh, unary<fTanh>},
      {OpKind::Exp, unary<fExp>},
      {OpKind::Log, unary<fLog>},
      {OpKind::Softplus, unary<fSoftplus>},
      {OpKind::Step, unary<fStep>},
      {OpKind::Clamp, unary<fClamp>},
      {OpKind::ScaleShift, unary<fScaleShift>},
      {OpKind::Add, binary<arith::AddFOp>},
      {OpKind::Sub, binary<arith::SubFOp>},
      {OpKind::Mul, binary<arith::MulFOp>},
      {OpKind::Div, binary<arith::DivFOp>},
      {OpKind::StopGradient, identity},
      {OpKind::GradReverse, identity},
  };
}

}  // namespace recc::lower
