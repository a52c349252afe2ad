// Elementwise: the activations (relu, sigmoid, tanh, exp, log, softplus,
// step), each one primitive op, and clamp and dropout.
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

/// f(x) as the one primitive op `kind`.
template <OpKind kind> Value buildUnary(BuiltinCall& c) {
  return Value::tensor(c.builder().add(kind, {c.tensor(0)}, {}, c.loc()));
}

bool checkClamp(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  double lo = 0, hi = 0;
  Const cl = c.constant(c.arg(1), "'lo' of 'clamp'", lo),
        ch = c.constant(c.arg(2), "'hi' of 'clamp'", hi);
  if (cl == Const::Known && ch == Const::Known && lo > hi) {
    c.error(c.call().loc, "'clamp' bounds are reversed: lo " + fmtNumber(lo) + " > hi " +
                              fmtNumber(hi));
    ok = false;
  }
  ok &= cl != Const::Invalid && ch != Const::Invalid;
  return ok;
}

Value buildClamp(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  double lo, hi;
  if (!c.number(c.arg(1), "'lo' of 'clamp'", lo) || !c.number(c.arg(2), "'hi' of 'clamp'", hi))
    return Value{};
  if (lo > hi) return c.fail("'clamp' bounds are reversed: lo > hi");
  return Value::tensor(c.builder().add(OpKind::Clamp, {x}, {{"lo", lo}, {"hi", hi}}, c.loc()));
}

bool checkDropout(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.inRange(c.arg(1), 0, 1, true, "the probability of 'dropout'");
  return ok;
}

Value buildDropout(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  double p;
  if (!c.probability(c.arg(1), "the probability of 'dropout'", p)) return Value{};
  return Value::tensor(c.builder().dropout(x, p, c.loc()));
}

} // namespace

std::span<const BuiltinRecord> elementwiseBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "relu", .context = kExpr, .params = {{"x", true}}, .usage = "relu(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Relu>},
      {.name = "sigmoid", .context = kExpr, .params = {{"x", true}}, .usage = "sigmoid(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Sigmoid>},
      {.name = "tanh", .context = kExpr, .params = {{"x", true}}, .usage = "tanh(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Tanh>},
      {.name = "exp", .context = kExpr, .params = {{"x", true}}, .usage = "exp(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Exp>},
      {.name = "log", .context = kExpr, .params = {{"x", true}}, .usage = "log(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Log>},
      {.name = "softplus", .context = kExpr, .params = {{"x", true}}, .usage = "softplus(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Softplus>},
      {.name = "step", .context = kExpr, .params = {{"x", true}}, .usage = "step(x)",
       .check = oneTensor, .build = buildUnary<OpKind::Step>},
      {.name = "clamp", .context = kExpr, .params = {{"x", true}, {"lo", true}, {"hi", true}},
       .usage = "clamp(x, lo, hi)", .check = checkClamp, .build = buildClamp},
      {.name = "dropout", .context = kExpr, .params = {{"x", true}, {"p", true}},
       .usage = "dropout(x, p)", .check = checkDropout, .build = buildDropout},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
