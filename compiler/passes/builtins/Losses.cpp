// Losses: the per-row losses averaged over the batch — bce (on
// probabilities), bce_logits, mse, each with an optional weight and mask —
// and info_nce over a group of candidate scores per row.
//   bce(p, y)          -mean(y*log(clamp(p)) + (1-y)*log(1-clamp(p))), clamp to [1e-7, 1-1e-7]
//   bce_logits(z, y)   mean(softplus(z) - z*y)
//   info_nce(s)        mean(logsumexp(s/t) - s[positive]/t)
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkPointwiseLoss(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.tensor(1);
  if (c.arg(2)) ok &= c.tensor(2, true);
  if (c.arg(3)) ok &= c.tensor(3);
  return ok;
}

/// bce, bce_logits (logits) or mse: (p, y, weight = w, where = mask).
Value buildPointwiseLoss(BuiltinCall& c, const char* name, bool logits, bool mse) {
  const Expr* we = c.arg(2);
  Value p = c.eval(0), y = c.eval(1), w;
  if (we) w = c.eval(2);
  if (!p.ok() || !y.ok() || (we && !w.ok())) return Value{};
  if (c.tensorOf(p, 0) == kNoNode || c.tensorOf(y, 1) == kNoNode) return Value{};
  if (we && w.kind != Value::Kind::Number && c.tensorOf(w, 2) == kNoNode) return Value{};
  NodeId mask = kNoNode;
  if (c.arg(3) && (mask = c.tensor(3)) == kNoNode) return Value{};
  return Value::tensor(
      c.builder().bce(p, y, we ? &w : nullptr, logits, c.loc(), name, mask, mse));
}

Value buildBce(BuiltinCall& c) { return buildPointwiseLoss(c, "bce", false, false); }
Value buildBceLogits(BuiltinCall& c) { return buildPointwiseLoss(c, "bce_logits", true, false); }
Value buildMse(BuiltinCall& c) { return buildPointwiseLoss(c, "mse", false, true); }

bool checkInfoNce(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  if (c.arg(1)) ok &= c.integer(c.arg(1), 0, kMaxWidth, "'positive' of 'info_nce'");
  double v;
  if (c.arg(2) && c.knownNumber(c.arg(2), "'temperature' of 'info_nce'", v) && !(v > 0)) {
    c.error(c.arg(2)->loc, "'temperature' of 'info_nce' must be positive, got " + fmtNumber(v));
    ok = false;
  }
  return ok;
}

Value buildInfoNce(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId s = c.tensor(0);
  double pos, temp;
  if (s == kNoNode || !c.numberOr(1, 0, pos) || !c.numberOr(2, 1, temp)) return Value{};
  Shape sh = g.shapeOf(s);
  if (sh.rank() != 2 || !isBatchDim(sh[0]) || sh[1] < 2 || pos >= (double)sh[1])
    return c.fail("'info_nce' expects scores [B,N] (a group of N >= 2 candidates per row, the "
                  "positive at index " + std::to_string((int64_t)pos) + "), got " +
                  g.shapeOf(s).str());
  NodeId z = g.scaleShift(s, 1 / temp, 0, loc);
  NodeId mx = g.reduceAxes(OpKind::ReduceMax, z, {1}, true, loc);
  NodeId e = g.add(OpKind::Exp, {g.add(OpKind::Sub, {z, mx}, {}, loc)}, {}, loc);
  NodeId sum = g.reduceAxes(OpKind::ReduceSum, e, {1}, true, loc);
  NodeId lse = g.add(OpKind::Add, {g.add(OpKind::Log, {sum}, {}, loc), mx}, {}, loc);
  NodeId p = g.add(OpKind::Slice, {z},
                   {{"axis", int64_t(1)}, {"start", (int64_t)pos}, {"size", int64_t(1)}}, loc);
  NodeId per = g.add(OpKind::Sub, {lse, p}, {}, loc);
  return Value::tensor(g.reduceAxes(OpKind::ReduceMean, per, {}, false, loc));
}

} // namespace

std::span<const BuiltinRecord> crossEntropyBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "bce", .context = kExpr,
       .params = {{"p", true}, {"y", true}, {"weight", false}, {"where", false}},
       .usage = "bce(p, y, weight = w, where = mask)", .check = checkPointwiseLoss,
       .build = buildBce},
      {.name = "bce_logits", .context = kExpr,
       .params = {{"z", true}, {"y", true}, {"weight", false}, {"where", false}},
       .usage = "bce_logits(z, y, weight = w, where = mask)", .check = checkPointwiseLoss,
       .build = buildBceLogits},
  };
  return kRecords;
}

std::span<const BuiltinRecord> lossBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "mse", .context = kExpr,
       .params = {{"p", true}, {"y", true}, {"weight", false}, {"where", false}},
       .usage = "mse(p, y, weight = w, where = mask)", .check = checkPointwiseLoss,
       .build = buildMse},
      {.name = "info_nce", .context = kExpr,
       .params = {{"scores", true}, {"positive", false}, {"temperature", false}},
       .usage = "info_nce(scores, positive = 0, temperature = 1)", .check = checkInfoNce,
       .build = buildInfoNce},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
