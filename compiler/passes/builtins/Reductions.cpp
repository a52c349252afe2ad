// Reductions: mean, sum and max over all axes (a scalar) or over `axis`
// (kept as extent 1); mean and sum take `where = mask`, the mean (sum) of the
// entries where the mask is 1.
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkMaskedReduction(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  if (c.arg(1)) ok &= c.integer(c.arg(1), -8, 8, "'axis'");
  if (c.arg(2)) ok &= c.tensor(2);
  return ok;
}

/// mean (kind ReduceMean) or sum (ReduceSum) of x, with `where = mask`.
Value buildMaskedReduction(BuiltinCall& c, OpKind kind) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  const Expr* axisArg = c.arg(1);
  NodeId x = c.tensor(0);
  double axis = 0;
  if (axisArg && !c.number(axisArg, "'axis'", axis)) return Value{};
  const double* axisPtr = axisArg ? &axis : nullptr;
  const SourceLoc& axisLoc = axisArg ? axisArg->loc : loc;
  if (!c.arg(2)) return Value::tensor(g.reduce(kind, x, axisPtr, axisLoc, loc));
  NodeId m = c.tensor(2);
  if (x == kNoNode || m == kNoNode) return Value{};
  NodeId mb = g.add(OpKind::BroadcastLike, {g.maskLike(m, x, loc), x}, {}, loc);
  NodeId s = g.reduce(OpKind::ReduceSum, g.add(OpKind::Mul, {x, mb}, {}, loc), axisPtr, axisLoc,
                      loc);
  if (kind == OpKind::ReduceSum || s == kNoNode) return Value::tensor(s);
  NodeId cnt = g.reduce(OpKind::ReduceSum, mb, axisPtr, loc, loc);
  NodeId safe = g.add(OpKind::Clamp, {cnt}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
  return Value::tensor(g.add(OpKind::Div, {s, safe}, {}, loc));
}

Value buildMean(BuiltinCall& c) { return buildMaskedReduction(c, OpKind::ReduceMean); }
Value buildSum(BuiltinCall& c) { return buildMaskedReduction(c, OpKind::ReduceSum); }

bool checkMax(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  if (c.arg(1)) ok &= c.integer(c.arg(1), -8, 8, "'axis'");
  return ok;
}

Value buildMax(BuiltinCall& c) {
  const Expr* axisArg = c.arg(1);
  NodeId x = c.tensor(0);
  double axis = 0;
  if (axisArg && !c.number(axisArg, "'axis'", axis)) return Value{};
  return Value::tensor(c.builder().reduce(OpKind::ReduceMax, x, axisArg ? &axis : nullptr,
                                          axisArg ? axisArg->loc : c.loc(), c.loc()));
}

} // namespace

std::span<const BuiltinRecord> reductionBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "mean", .context = kExpr, .params = {{"x", true}, {"axis", false}, {"where", false}},
       .usage = "mean(x, axis = a, where = mask)", .check = checkMaskedReduction,
       .build = buildMean},
      {.name = "sum", .context = kExpr, .params = {{"x", true}, {"axis", false}, {"where", false}},
       .usage = "sum(x, axis = a, where = mask)", .check = checkMaskedReduction,
       .build = buildSum},
      {.name = "max", .context = kExpr, .params = {{"x", true}, {"axis", false}},
       .usage = "max(x, axis = a)", .check = checkMax, .build = buildMax},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
