// Elementwise ops: unary maps and broadcasting binary arithmetic. Each op's
// shape rule, double-precision kernel and gradient rule sit side by side.
#include "compiler/ops/OpHelpers.h"

#include <cmath>

namespace recc::ophelpers {

static Shape sameShape(const ShapeCtx& c) { return c.in[0]; }

template <double (*F)(double, const Attrs&)>
static void evalUnary(const EvalCtx& c) {
  const auto& x = c.in[0]->data;
  auto& y = c.out.data;
  for (size_t i = 0; i < y.size(); ++i) y[i] = F(x[i], c.attrs);
}

// --- Unary kernels -----------------------------------------------------------
static double fNeg(double x, const Attrs&) { return -x; }
static double fRelu(double x, const Attrs&) { return x > 0 ? x : 0; }
static double fSigmoid(double x, const Attrs&) {
  // Split by sign so exp never overflows.
  if (x >= 0) return 1 / (1 + std::exp(-x));
  double e = std::exp(x);
  return e / (1 + e);
}
static double fTanh(double x, const Attrs&) { return std::tanh(x); }
static double fExp(double x, const Attrs&) { return std::exp(x); }
static double fLog(double x, const Attrs&) { return std::log(x); }
static double fSoftplus(double x, const Attrs&) {
  return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
}
static double fStep(double x, const Attrs&) { return x > 0 ? 1 : 0; }
static double fClamp(double x, const Attrs& a) {
  return std::min(std::max(x, a.getFloat("lo")), a.getFloat("hi"));
}
static double fScaleShift(double x, const Attrs& a) {
  return a.getFloat("scale", 1) * x + a.getFloat("shift", 0);
}

// --- Unary gradients ---------------------------------------------------------
static std::vector<NodeId> gNeg(GradBuilder& g) { return {g.neg(g.dy())}; }
// relu(x) > 0 exactly where x > 0 (NaN included: both give 0), so the mask
// reads the output. The pre-activation then has no use left in the backward
// pass and fuses into the relu instead of being written and read back.
static std::vector<NodeId> gRelu(GradBuilder& g) {
  return {g.mul(g.dy(), g.op(OpKind::Step, {g.y()}))};
}
static std::vector<NodeId> gSigmoid(GradBuilder& g) {  // y (1 - y)
  return {g.mul(g.dy(), g.mul(g.y(), g.scaleShift(g.y(), -1, 1)))};
}
static std::vector<NodeId> gTanh(GradBuilder& g) {  // 1 - y^2
  return {g.mul(g.dy(), g.scaleShift(g.mul(g.y(), g.y()), -1, 1))};
}
static std::vector<NodeId> gExp(GradBuilder& g) { return {g.mul(g.dy(), g.y())}; }
static std::vector<NodeId> gLog(GradBuilder& g) { return {g.div(g.dy(), g.x(0))}; }
static std::vector<NodeId> gSoftplus(GradBuilder& g) {
  return {g.mul(g.dy(), g.op(OpKind::Sigmoid, {g.x(0)}))};
}
static std::vector<NodeId> gClamp(GradBuilder& g) {
  // Passes the gradient only strictly inside (lo, hi).
  double lo = g.attrs().getFloat("lo"), hi = g.attrs().getFloat("hi");
  NodeId above = g.op(OpKind::Step, {g.scaleShift(g.x(0), 1, -lo)});
  NodeId below = g.op(OpKind::Step, {g.scaleShift(g.x(0), -1, hi)});
  return {g.mul(g.dy(), g.mul(above, below))};
}
static std::vector<NodeId> gScaleShift(GradBuilder& g) {
  return {g.scaleShift(g.dy(), g.attrs().getFloat("scale", 1), 0)};
}

// --- Binary ------------------------------------------------------------------
template <const char* Verb>
static Shape broadcastRule(const ShapeCtx& c) {
  return broadcastShapes(c.in[0], c.in[1], Verb);
}

template <double (*F)(double, double)>
static void evalBinary(const EvalCtx& c) {
  const RefTensor& a = *c.in[0];
  const RefTensor& b = *c.in[1];
  auto& y = c.out.data;
  if (a.shape == c.out.shape && b.shape == c.out.shape) {
    for (size_t i = 0; i < y.size(); ++i) y[i] = F(a.data[i], b.data[i]);
    return;
  }
  auto sa = broadcastStrides(a.shape, c.out.shape);
  auto sb = broadcastStrides(b.shape, c.out.shape);
  std::vector<double> av(y.size());
  forEachBroadcast(c.out.shape, sa, [&](int64_t i, int64_t off) { av[i] = a.data[off]; });
  forEachBroadcast(c.out.shape, sb,
                   [&](int64_t i, int64_t off) { y[i] = F(av[i], b.data[off]); });
}

static double fAdd(double a, double b) { return a + b; }
static double fSub(double a, double b) { return a - b; }
static double fMul(double a, double b) { return a * b; }
static double fDiv(double a, double b) { return a / b; }

static std::vector<NodeId> gAdd(GradBuilder& g) {
  return {g.sumTo(g.dy(), g.x(0)), g.sumTo(g.dy(), g.x(1))};
}
static std::vector<NodeId> gSub(GradBuilder& g) {
  return {g.sumTo(g.dy(), g.x(0)), g.sumTo(g.neg(g.dy()), g.x(1))};
}
static std::vector<NodeId> gMul(GradBuilder& g) {
  return {g.sumTo(g.mul(g.dy(), g.x(1)), g.x(0)), g.sumTo(g.mul(g.dy(), g.x(0)), g.x(1))};
}
static std::vector<NodeId> gDiv(GradBuilder& g) {  // d(a/b)/db = -y/b
  NodeId da = g.div(g.dy(), g.x(1));
  NodeId db = g.neg(g.mul(da, g.y()));
  return {g.sumTo(da, g.x(0)), g.sumTo(db, g.x(1))};
}

static constexpr char kAdd[] = "add", kSub[] = "subtract", kMul[] = "multiply",
                      kDiv[] = "divide";

std::vector<OpDef> elementwiseOps() {
  return {
      {OpKind::Neg, sameShape, evalUnary<fNeg>, gNeg},
      {OpKind::Relu, sameShape, evalUnary<fRelu>, gRelu},
      {OpKind::Sigmoid, sameShape, evalUnary<fSigmoid>, gSigmoid},
      {OpKind::Tanh, sameShape, evalUnary<fTanh>, gTanh},
      {OpKind::Exp, sameShape, evalUnary<fExp>, gExp},
      {OpKind::Log, sameShape, evalUnary<fLog>, gLog},
      {OpKind::Softplus, sameShape, evalUnary<fSoftplus>, gSoftplus},
      {.kind = OpKind::Step, .infer = sameShape, .eval = evalUnary<fStep>, .noGradient = true},
      {OpKind::Clamp, sameShape, evalUnary<fClamp>, gClamp},
      {OpKind::ScaleShift, sameShape, evalUnary<fScaleShift>, gScaleShift},
      {OpKind::Add, broadcastRule<kAdd>, evalBinary<fAdd>, gAdd},
      {OpKind::Sub, broadcastRule<kSub>, evalBinary<fSub>, gSub},
      {OpKind::Mul, broadcastRule<kMul>, evalBinary<fMul>, gMul},
      {OpKind::Div, broadcastRule<kDiv>, evalBinary<fDiv>, gDiv},
  };
}

} // namespace recc::ophelpers
