// Reductions: sum, mean and max over a set of axes, and `expand`, which undoes
// a reduction by broadcasting back along the reduced axes (the gradient of one
// is the other). Means over the batch divide by the batch size bound at run
// time. The max's gradient goes to one arg-max per group, picked by
// argmax_mask.
#include "compiler/ops/OpHelpers.h"

#include <limits>

namespace recc::ophelpers {

static std::vector<int64_t> axesOf(const Attrs& a, size_t rank, const char* op) {
  return normalizeAxes(a.getInts("axes"), rank, op);
}

template <const char* Name>
static Shape inferReduce(const ShapeCtx& c) {
  auto axes = axesOf(c.attrs, c.in[0].rank(), Name);
  return reduceShape(c.in[0], axes, c.attrs.getInt("keepdims"));
}

/// The input's shape with reduced axes set to 1 (the layout of any reduction).
static std::vector<int64_t> keptShape(const std::vector<int64_t>& in,
                                      const std::vector<int64_t>& axes) {
  std::vector<int64_t> k = in;
  for (auto a : axes) k[a] = 1;
  return k;
}

template <bool Mean>
static void evalReduce(const EvalCtx& c) {
  const RefTensor& x = *c.in[0];
  auto axes = axesOf(c.attrs, x.shape.size(), "reduce");
  auto st = broadcastStrides(keptShape(x.shape, axes), x.shape);
  forEachBroadcast(x.shape, st, [&](int64_t i, int64_t off) { c.out.data[off] += x.data[i]; });
  if (Mean && !c.out.data.empty()) {
    double n = (double)x.size() / (double)c.out.size();
    for (auto& v : c.out.data) v /= n;
  }
}

static Shape inferExpand(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const Shape& like = c.in[1];
  auto axes = axesOf(c.attrs, like.rank(), "expand");
  if (x != reduceShape(like, axes, false) && x != reduceShape(like, axes, true))
    throw ShapeError(fmt::format("cannot expand {} to {} along the given axes", x.str(),
                                 like.str()));
  return like;
}

static void evalExpand(const EvalCtx& c) {
  auto axes = axesOf(c.attrs, c.out.shape.size(), "expand");
  auto st = broadcastStrides(keptShape(c.out.shape, axes), c.out.shape);
  const RefTensor& x = *c.in[0];
  double scale = 1.0;
  if (c.attrs.getInt("mean") && x.size() > 0) scale = (double)x.size() / (double)c.out.size();
  forEachBroadcast(c.out.shape, st,
                   [&](int64_t i, int64_t off) { c.out.data[i] = x.data[off] * scale; });
}

static NodeId expandBack(GradBuilder& g, bool mean) {
  return g.op(OpKind::Expand, {g.dy(), g.x(0)},
              {{"axes", g.attrs().getInts("axes")}, {"mean", (int64_t)mean}});
}
static std::vector<NodeId> gradReduceSum(GradBuilder& g) { return {expandBack(g, false)}; }
static std::vector<NodeId> gradReduceMean(GradBuilder& g) { return {expandBack(g, true)}; }

static std::vector<NodeId> gradExpand(GradBuilder& g) {
  bool keep = g.shapeOf(g.x(0)).rank() == g.shapeOf(g.x(1)).rank();
  OpKind kind = g.attrs().getInt("mean") ? OpKind::ReduceMean : OpKind::ReduceSum;
  return {g.op(kind, {g.dy()}, {{"axes", g.attrs().getInts("axes")}, {"keepdims", (int64_t)keep}}),
          kNoNode};
}

// --- reduce_max / argmax_mask -----------------------------------------------------
static void evalReduceMax(const EvalCtx& c) {
  const RefTensor& x = *c.in[0];
  auto axes = axesOf(c.attrs, x.shape.size(), "reduce_max");
  auto st = broadcastStrides(keptShape(x.shape, axes), x.shape);
  for (auto& v : c.out.data) v = -std::numeric_limits<double>::infinity();
  forEachBroadcast(x.shape, st, [&](int64_t i, int64_t off) {
    c.out.data[off] = std::max(c.out.data[off], x.data[i]);
  });
}

// Tie rule: within each group (the elements reduced into one output), the
// first maximum in row-major order over the reduced axes wins, so exactly
// one element per group gets the gradient. Walking x row-major visits each
// group's elements in that order. The MLIR lowering computes the same
// element as the smallest flat index among the maxima.
static void evalArgMaxMask(const EvalCtx& c) {
  const RefTensor& x = *c.in[0];
  auto axes = axesOf(c.attrs, x.shape.size(), "argmax_mask");
  auto kept = keptShape(x.shape, axes);
  auto st = broadcastStrides(kept, x.shape);
  std::vector<double> best(RefTensor::numElements(kept), -std::numeric_limits<double>::infinity());
  forEachBroadcast(x.shape, st,
                   [&](int64_t i, int64_t off) { best[off] = std::max(best[off], x.data[i]); });
  std::vector<bool> taken(best.size(), false);
  forEachBroadcast(x.shape, st, [&](int64_t i, int64_t off) {
    if (taken[off] || x.data[i] != best[off]) return;
    taken[off] = true;
    c.out.data[i] = 1;
  });
}

static Shape inferArgMaxMask(const ShapeCtx& c) {
  axesOf(c.attrs, c.in[0].rank(), "argmax_mask");
  return c.in[0];
}

// dx = expand(dy) · argmax_mask(x): the whole gradient to the one winner.
static std::vector<NodeId> gradReduceMax(GradBuilder& g) {
  auto axes = g.attrs().getInts("axes");
  NodeId spread = g.op(OpKind::Expand, {g.dy(), g.x(0)}, {{"axes", axes}, {"mean", int64_t(0)}});
  return {g.mul(spread, g.op(OpKind::ArgMaxMask, {g.x(0)}, {{"axes", axes}}))};
}

static constexpr char kSum[] = "reduce_sum", kMean[] = "reduce_mean", kMax[] = "reduce_max";

std::vector<OpDef> reduceOps() {
  return {
      {OpKind::ReduceSum, inferReduce<kSum>, evalReduce<false>, gradReduceSum},
      {OpKind::ReduceMean, inferReduce<kMean>, evalReduce<true>, gradReduceMean},
      {OpKind::ReduceMax, inferReduce<kMax>, evalReduceMax, gradReduceMax},
      {OpKind::Expand, inferExpand, evalExpand, gradExpand},
      // A 0/1 mask, piecewise constant in x: zero gradient.
      {.kind = OpKind::ArgMaxMask,
       .infer = inferArgMaxMask,
       .eval = evalArgMaxMask,
       .noGradient = true},
  };
}

} // namespace recc::ophelpers
