// GradientFlow: stop_gradient, grad_reverse (the gradient reversal of
// domain-adversarial training, with DANN's ramp as a schedule) and
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
  if (s && (s->name == "constant" || s->name == "dann")) return true;
  c.error(arg->loc, "unknown schedule" +
                        (s ? " '" + s->name + "'" + didYouMean(s->name, {"constant", "dann"})
                           : std::string()) +
                        "; expected 'constant' or 'dann'");
  return false;
}

bool checkGradReverse(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.inRange(c.arg(1), 0, INFINITY, false, "'lambda' of 'grad_reverse'");
  if (c.arg(2)) ok &= checkSchedule(c, c.arg(2));
  return ok;
}

Value buildGradReverse(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0);
  double lambda;
  if (x == kNoNode || !c.number(1, lambda)) return Value{};
  auto* sched = dynCast<NameExpr>(c.arg(2));
  NodeId coeff;
  if (sched && sched->name == "dann") {
    // DANN's ramp: lambda * (2 / (1 + exp(-10 p)) - 1), p = training progress.
    NodeId s = g.add(OpKind::Sigmoid, {g.scaleShift(g.progress(loc), 10, 0, loc)}, {}, loc);
    coeff = g.scaleShift(s, 2 * lambda, -lambda, loc);
  } else {
    coeff = g.constant(lambda, loc);
  }
  return Value::tensor(g.add(OpKind::GradReverse, {x, coeff}, {}, loc));
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
       .params = {{"x", true}, {"lambda", true}, {"schedule", false}},
       .usage = "grad_reverse(x, lambda, schedule = constant)", .check = checkGradReverse,
       .build = buildGradReverse},
      {.name = "train_only", .context = kExpr, .params = {{"x", true}, {"otherwise", true}},
       .usage = "train_only(x, otherwise)", .check = checkTrainOnly, .build = buildTrainOnly},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
