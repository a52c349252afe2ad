// Normalization: layer_norm, batch_norm (running statistics as model state,
// per id with `by`) and running_mean (a model state updated by a rule); the
// compositions are GraphBuilder::layerNorm, batchNorm and runningMean.
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkLayerNorm(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= positiveEps(c, c.arg(1));
  return ok;
}

Value buildLayerNorm(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  double eps;
  if (x == kNoNode || !c.numberOr(1, 1e-8, eps)) return Value{};
  return Value::tensor(c.builder().layerNorm(x, eps, c.nextName(), c.loc()));
}

bool checkBatchNorm(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= positiveEps(c, c.arg(2));
  if (c.arg(1)) ok &= c.inRange(c.arg(1), 0, 1, true, "'momentum' of 'batch_norm'");
  if (c.arg(3)) ok &= c.ids(3);
  return ok;
}

Value buildBatchNorm(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  double momentum, eps;
  if (x == kNoNode || !c.numberOr(1, 0.99, momentum) || !c.numberOr(2, 1e-3, eps)) return Value{};
  InputInfo* by = c.route(3);
  if (c.arg(3) && !by) return Value{};
  return Value::tensor(c.builder().batchNorm(x, momentum, eps, c.nextName(), c.loc(), by));
}

bool checkRunningMean(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  if (c.arg(1)) ok &= c.inRange(c.arg(1), 0, 1, true, "'decay' of 'running_mean'");
  if (c.arg(2)) ok &= c.tensor(2);
  return ok;
}

Value buildRunningMean(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  NodeId m = c.arg(2) ? c.tensor(2) : kNoNode;
  double decay;
  if (x == kNoNode || (c.arg(2) && m == kNoNode) || !c.numberOr(1, 0.9, decay)) return Value{};
  return Value::tensor(c.builder().runningMean(x, decay, m, c.nextName(), c.loc()));
}

} // namespace

std::span<const BuiltinRecord> normalizationBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "layer_norm", .context = kExpr, .params = {{"x", true}, {"eps", false}},
       .usage = "layer_norm(x, eps = 1e-8)", .check = checkLayerNorm, .build = buildLayerNorm},
      {.name = "batch_norm", .context = kExpr,
       .params = {{"x", true}, {"momentum", false}, {"eps", false}, {"by", false}},
       .usage = "batch_norm(x, momentum = 0.99, eps = 1e-3, by = ids)", .check = checkBatchNorm,
       .build = buildBatchNorm},
      {.name = "running_mean", .context = kExpr,
       .params = {{"x", true}, {"decay", false}, {"where", false}},
       .usage = "running_mean(x, decay = 0.9, where = mask)", .check = checkRunningMean,
       .build = buildRunningMean},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
