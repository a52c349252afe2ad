// Sequences: masks of id sequences, pooling, similarity, softmax and the
// shape helpers of towers and candidate lists.
//   mask(ids)             step(ids + 0.5) on the raw ids (padding is -1)
//   masked_mean(x, m)     sum(x*m, axis 1) / max(sum(m, axis 1), 1)
//   softmax / masked_softmax   exp(x' - reduce_max(x')) * m / max(sum(..), 1e-30),
//                         x' = x*m + (m-1)*1e9: an all-masked row gives zeros
//   weighted_sum(w, v)    sum(v * w, axis 1)
//   l2_normalize, cosine  1/sqrt(v) as exp(-0.5 * log(v))
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkIds(BuiltinCheck& c) { return c.ids(0); }

Value buildMask(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  InputInfo* in = c.ids(0);
  if (!in) return Value{};
  NodeId shifted = g.scaleShift(g.idsOf(*in, loc), 1, 0.5, loc);
  return Value::tensor(g.add(OpKind::Step, {shifted}, {}, loc));
}

Value buildOneHot(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  InputInfo* in = c.ids(0);
  if (!in) return Value{};
  if (in->vocab > 4096)
    return c.fail("'one_hot' needs a small vocabulary (at most 4096 ids), but '" +
                  in->ident->name + "' has " + std::to_string(in->vocab));
  if (in->kind == FeatureKind::Categorical) return Value::tensor(g.oneHot(*in, loc));
  return Value::tensor(g.add(OpKind::OneHot, {g.idsOf(*in, loc)}, {{"depth", in->vocab}}, loc));
}

/// masked_sum (or, with `mean`, masked_mean) of values [B,L,...] under a mask [B,L].
Value buildMaskedPool(BuiltinCall& c, bool mean) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0), m = c.tensor(1);
  if (x == kNoNode || m == kNoNode) return Value{};
  Shape xs = g.shapeOf(x), ms = g.shapeOf(m);
  if (xs.rank() < 3 || ms.rank() != 2 || xs[0] != ms[0] || xs[1] != ms[1])
    return c.fail(c.desc() + " expects values [B,L,...] and a mask [B,L], got " + xs.str() +
                  " and " + ms.str());
  NodeId masked = g.add(OpKind::Mul, {x, g.maskLike(m, x, loc)}, {}, loc);
  NodeId s = g.reduceAxes(OpKind::ReduceSum, masked, {1}, false, loc);
  if (!mean) return Value::tensor(s);
  NodeId n = g.reduceAxes(OpKind::ReduceSum, m, {1}, true, loc);
  NodeId safe = g.add(OpKind::Clamp, {n}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
  return Value::tensor(g.add(OpKind::Div, {s, g.maskLike(safe, s, loc)}, {}, loc));
}

Value buildMaskedMean(BuiltinCall& c) { return buildMaskedPool(c, true); }
Value buildMaskedSum(BuiltinCall& c) { return buildMaskedPool(c, false); }

/// u / |u| along the last axis (for cosine).
NodeId unitLength(GraphBuilder& g, NodeId u, const SourceLoc& loc) {
  NodeId ss = g.reduceAxes(OpKind::ReduceSum, g.add(OpKind::Mul, {u, u}, {}, loc), {-1}, true, loc);
  return g.add(OpKind::Mul, {u, g.rsqrt(ss, 1e-12, loc)}, {}, loc);
}

/// dot(u, v) along the last axis (kept as extent 1); cosine normalizes first.
Value buildDotProduct(BuiltinCall& c, bool cosine) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId u = c.tensor(0), v = c.tensor(1);
  if (u == kNoNode || v == kNoNode) return Value{};
  if (cosine) {
    u = unitLength(g, u, loc);
    v = unitLength(g, v, loc);
  }
  NodeId prod = g.add(OpKind::Mul, {u, v}, {}, loc);
  if (prod == kNoNode) return Value{};
  return Value::tensor(
      g.reduceAxes(OpKind::ReduceSum, prod, {(int64_t)g.shapeOf(prod).rank() - 1}, true, loc));
}

Value buildDot(BuiltinCall& c) { return buildDotProduct(c, false); }
Value buildCosine(BuiltinCall& c) { return buildDotProduct(c, true); }

bool checkL2Normalize(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= positiveEps(c, c.arg(1));
  return ok;
}

Value buildL2Normalize(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0);
  double eps;
  if (x == kNoNode || !c.numberOr(1, 1e-12, eps)) return Value{};
  NodeId ss = g.reduceAxes(OpKind::ReduceSum, g.add(OpKind::Mul, {x, x}, {}, loc),
                           {(int64_t)g.shapeOf(x).rank() - 1}, true, loc);
  return Value::tensor(g.add(OpKind::Mul, {x, g.rsqrt(ss, eps, loc)}, {}, loc));
}

Value buildSoftmax(BuiltinCall& c) {
  return Value::tensor(c.builder().softmax(c.tensor(0), kNoNode, c.loc()));
}

Value buildMaskedSoftmax(BuiltinCall& c) {
  NodeId x = c.tensor(0), m = c.tensor(1);
  if (x == kNoNode || m == kNoNode) return Value{};
  return Value::tensor(c.builder().softmax(x, m, c.loc()));
}

Value buildWeightedSum(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId w = c.tensor(0), v = c.tensor(1);
  if (w == kNoNode || v == kNoNode) return Value{};
  Shape ws = g.shapeOf(w), vs = g.shapeOf(v);
  if (ws.rank() != 2 || vs.rank() < 2 || ws[0] != vs[0] || ws[1] != vs[1])
    return c.fail("'weighted_sum' expects weights [B,n] and values [B,n,...], got " + ws.str() +
                  " and " + vs.str());
  NodeId prod = g.add(OpKind::Mul, {v, g.maskLike(w, v, loc)}, {}, loc);
  return Value::tensor(g.reduceAxes(OpKind::ReduceSum, prod, {1}, vs.rank() == 2, loc));
}

Value buildRepeatLike(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0), like = c.tensor(1);
  if (x == kNoNode || like == kNoNode) return Value{};
  Shape xs = g.shapeOf(x), ls = g.shapeOf(like);
  std::vector<int64_t> dims = xs.dims;
  if (xs.rank() >= 1) dims.insert(dims.begin() + 1, 1);
  if (ls.rank() == 2 && xs.rank() >= 2 && xs[0] == ls[0]) {
    // like [B,L] (a mask, one score per candidate) only gives the count:
    // x times ones [B,L,1,...], so that any x [B,...] repeats L times.
    std::vector<int64_t> ones(xs.rank() + 1, 1);
    ones[0] = ls[0];
    ones[1] = ls[1];
    NodeId one = g.scaleShift(g.reshape(like, ones, loc), 0, 1, loc);
    return Value::tensor(g.add(OpKind::Mul, {g.reshape(x, dims, loc), one}, {}, loc));
  }
  bool fits = xs.rank() + 1 == ls.rank();
  try {
    fits = fits && broadcastShapes(Shape(dims), ls, "repeat") == ls;
  } catch (const ShapeError&) {
    fits = false;
  }
  if (!fits)
    return c.fail("'repeat_like' repeats x [B,...] along axis 1 of like [B,L,...], got " +
                  xs.str() + " and " + ls.str());
  return Value::tensor(g.add(OpKind::BroadcastLike, {g.reshape(x, dims, loc), like}, {}, loc));
}

bool checkStack(BuiltinCheck& c) {
  bool ok = true;
  for (size_t i = 0; i < c.argCount(); ++i) ok &= c.tensor(i);
  return ok;
}

Value buildStack(BuiltinCall& c) {
  std::vector<NodeId> xs;
  for (size_t i = 0; i < c.argCount(); ++i) xs.push_back(c.tensor(i));
  return Value::tensor(c.builder().stack(xs, c.loc()));
}

bool checkTake(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.integer(c.arg(1), 0, kMaxWidth, "'index' of 'take'");
  return ok;
}

Value buildTake(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0);
  double i;
  if (x == kNoNode || !c.number(1, i)) return Value{};
  Shape s = g.shapeOf(x);
  if (s.rank() < 2 || s[1] < 0 || i < 0 || i >= (double)s[1] || i != std::floor(i))
    return c.fail("'take' index " + std::to_string((int64_t)i) + " is out of range for axis 1 of " +
                  s.str());
  NodeId sl = g.add(OpKind::Slice, {x},
                    {{"axis", int64_t(1)}, {"start", (int64_t)i}, {"size", int64_t(1)}}, loc);
  if (s.rank() == 2) return Value::tensor(sl);
  std::vector<int64_t> dims = s.dims;
  dims.erase(dims.begin() + 1);
  return Value::tensor(g.reshape(sl, dims, loc));
}

Value buildSqueeze(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  NodeId x = c.tensor(0);
  if (x == kNoNode) return Value{};
  Shape s = g.shapeOf(x);
  if (s.rank() < 2 || s.dims.back() != 1)
    return c.fail("'squeeze' drops a last axis of extent 1, but the value has shape " + s.str());
  std::vector<int64_t> dims(s.dims.begin(), s.dims.end() - 1);
  return Value::tensor(g.reshape(x, dims, c.loc()));
}

} // namespace

std::span<const BuiltinRecord> sequenceBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "mask", .context = kExpr, .params = {{"ids", true}}, .usage = "mask(ids)",
       .check = checkIds, .build = buildMask},
      {.name = "one_hot", .context = kExpr, .params = {{"ids", true}}, .usage = "one_hot(ids)",
       .check = checkIds, .build = buildOneHot},
      {.name = "masked_mean", .context = kExpr, .params = {{"x", true}, {"mask", true}},
       .usage = "masked_mean(x, mask)", .check = twoTensors, .build = buildMaskedMean},
      {.name = "masked_sum", .context = kExpr, .params = {{"x", true}, {"mask", true}},
       .usage = "masked_sum(x, mask)", .check = twoTensors, .build = buildMaskedSum},
      {.name = "dot", .context = kExpr, .params = {{"u", true}, {"v", true}},
       .usage = "dot(u, v)", .check = twoTensors, .build = buildDot},
      {.name = "cosine", .context = kExpr, .params = {{"u", true}, {"v", true}},
       .usage = "cosine(u, v)", .check = twoTensors, .build = buildCosine},
      {.name = "l2_normalize", .context = kExpr, .params = {{"x", true}, {"eps", false}},
       .usage = "l2_normalize(x, eps = 1e-12)", .check = checkL2Normalize,
       .build = buildL2Normalize},
      {.name = "softmax", .context = kExpr, .params = {{"x", true}}, .usage = "softmax(x)",
       .check = oneTensor, .build = buildSoftmax},
      {.name = "masked_softmax", .context = kExpr, .params = {{"x", true}, {"mask", true}},
       .usage = "masked_softmax(x, mask)", .check = twoTensors, .build = buildMaskedSoftmax},
      {.name = "weighted_sum", .context = kExpr, .params = {{"weights", true}, {"values", true}},
       .usage = "weighted_sum(weights, values)", .check = twoTensors, .build = buildWeightedSum},
      {.name = "repeat_like", .context = kExpr, .params = {{"x", true}, {"like", true}},
       .usage = "repeat_like(x, like)", .check = twoTensors, .build = buildRepeatLike},
      {.name = "stack", .context = kExpr, .params = {}, .variadic = true,
       .usage = "stack(x, y, ...)", .check = checkStack, .build = buildStack},
      {.name = "take", .context = kExpr, .params = {{"x", true}, {"index", true}},
       .usage = "take(x, index)", .check = checkTake, .build = buildTake},
      {.name = "squeeze", .context = kExpr, .params = {{"x", true}}, .usage = "squeeze(x)",
       .check = oneTensor, .build = buildSqueeze},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
