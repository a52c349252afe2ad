// GradientFlow: stop_gradient, grad_reverse (the gradient reversal of
// domain-adversarial training, with DANN's ramp or a linear warm-up as a
// schedule of the training progress) and
// train_only (one value in the training graph, another in the eval graph).
#include "compiler/passes/builtins/Families.h"

#include "dsl/Suggest.h"

#include <cmath>

namespace recc::buildgraph::builtins {
namespace {

Value buildStopGradient(BuiltinCall& c) {
  return Value::tensor(c.builder().add(OpKind::StopGradient, {c.tensor(0)}, {}, c.loc()));
}

bool checkSchedule(BuiltinCheck& c, const Expr* arg) {
  auto* s = dynCast<NameExpr>(arg);
  if (s && (s->name == "constant" || s->name == "dann" || s->name == "linear")) return true;
  c.error(arg->loc, "unknown schedule" +
                        (s ? " '" + s->name + "'" +
                                 didYouMean(s->name, {"constant", "dann", "linear"})
                           : std::string()) +
                        "; expected 'constant', 'dann' or 'linear'");
  return false;
}

bool checkGradReverse(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.inRange(c.arg(1), 0, INFINITY, false, "'lambda' of 'grad_reverse'");
  if (c.arg(2)) ok &= checkSchedule(c, c.arg(2));
  if (c.arg(3)) {
    double w;
    if (c.knownNumber(c.arg(3), "'warmup' of 'grad_reverse'", w) && !(w > 0 && w <= 1)) {
      c.error(c.arg(3)->loc, "'warmup' of 'grad_reverse' is the fraction of training over "
                             "which the coefficient ramps up: it must be in (0, 1]");
      ok = false;
    }
    auto* s = dynCast<NameExpr>(c.arg(2));
    if (!s || s->name != "linear") {
      c.error(c.arg(3)->loc, "'warmup' of 'grad_reverse' applies to 'schedule = linear' only");
      ok = false;
    }
  }
  return ok;
}

/// The reversal coefficient of a schedule of the training progress p:
///   constant  lambda
///   dann      lambda · (2 / (1 + exp(-10 p)) - 1)      (DANN's ramp)
///   linear    lambda · min(1, p / warmup)               (a linear warm-up)
NodeId scheduleCoeff(BuiltinCall& c, double lambda) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  auto* sched = dynCast<NameExpr>(c.arg(2));
  std::string kind = sched ? sched->name : "constant";
  if (kind == "dann") {
    NodeId s = g.add(OpKind::Sigmoid, {g.scaleShift(g.progress(loc), 10, 0, loc)}, {}, loc);
    return g.scaleShift(s, 2 * lambda, -lambda, loc);
  }
  if (kind == "linear") {
    double warmup = 1;
    if (c.arg(3) && !c.number(3, warmup)) return kNoNode;
    NodeId ramp = g.add(OpKind::Clamp, {g.scaleShift(g.progress(loc), 1 / warmup, 0, loc)},
                        {{"lo", 0.0}, {"hi", 1.0}}, loc);
    return g.scaleShift(ramp, lambda, 0, loc);
  }
  return g.constant(lambda, loc);
}

Value buildGradReverse(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  NodeId x = c.tensor(0);
  double lambda;
  if (x == kNoNode || !c.number(1, lambda)) return Value{};
  NodeId coeff = scheduleCoeff(c, lambda);
  if (coeff == kNoNode) return Value{};
  return Value::tensor(g.add(OpKind::GradReverse, {x, coeff}, {}, c.loc()));
}

bool checkTrainOnly(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.tensor(1, true);
  return ok;
}

Value buildTrainOnly(BuiltinCall& c) {
  return c.eval(c.builder().mode() == GraphMode::Train ? 0 : 1);
}

} // namespace

std::span<const BuiltinRecord> gradientFlowBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "stop_gradient", .context = kExpr, .params = {{"x", true}},
       .usage = "stop_gradient(x)", .check = oneTensor, .build = buildStopGradient},
      {.name = "grad_reverse", .context = kExpr,
       .params = {{"x", true}, {"lambda", true}, {"schedule", false}, {"warmup", false}},
       .usage = "grad_reverse(x, lambda, schedule = constant, warmup = 1)", .check = checkGradReverse,
       .build = buildGradReverse},
      {.name = "train_only", .context = kExpr, .params = {{"x", true}, {"otherwise", true}},
       .usage = "train_only(x, otherwise)", .check = checkTrainOnly, .build = buildTrainOnly},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
