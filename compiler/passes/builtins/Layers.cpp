// Layers: embed, concat, dense and mlp — embeddings and the fully connected
// layers (dense(x, n) = matmul(x, w) + b; mlp = dense -> activation ->
// dropout per width; with `by`, one set of weights per id [V,...] gathered by
// matmul(one_hot(s), W)).
#include "compiler/passes/builtins/Families.h"

#include "dsl/Sema.h"
#include "dsl/Suggest.h"

#include <algorithm>

namespace recc::buildgraph::builtins {
namespace {

bool checkEmbed(BuiltinCheck& c) {
  c.embedding(*c.arg(0), *c.arg(1));
  return true;  // embed's errors do not make the call an error value
}

Value buildEmbed(BuiltinCall& c) {
  Value t = c.eval(0), ids = c.eval(1);
  return c.builder().embed(c.call(), t, ids);
}

bool checkConcat(BuiltinCheck& c) {
  bool ok = true;
  for (size_t i = 0; i < c.argCount(); ++i) ok &= c.tensor(i);
  if (c.keyword(0)) ok &= c.integer(c.keyword(0), -8, 8, "'axis' of 'concat'");
  return ok;
}

Value buildConcat(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  std::vector<Value> vals;  // the operands, for the notes of a shape error
  std::vector<NodeId> in;
  for (size_t i = 0; i < c.argCount(); ++i) {
    vals.push_back(c.eval(i));
    in.push_back(c.tensorOf(vals.back(), i));
  }
  for (NodeId n : in)
    if (n == kNoNode) return Value{};
  if (in.size() == 1) return Value::tensor(in[0]);
  int64_t axis = std::max<int64_t>((int64_t)g.shapeOf(in[0]).rank() - 1, 0);
  if (double a; c.keyword(0)) {
    if (!c.number(c.keyword(0), "'axis' of 'concat'", a)) return Value{};
    axis = (int64_t)a;
  }
  std::vector<const Value*> ops;
  for (const Value& v : vals) ops.push_back(&v);
  return Value::tensor(g.add(OpKind::Concat, in, {{"axis", axis}}, c.loc(), ops));
}

bool checkDense(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.integer(c.arg(1), 1, kMaxWidth, "'units' of 'dense'");
  if (c.arg(2)) ok &= c.ids(2);
  return ok;
}

Value buildDense(BuiltinCall& c) {
  NodeId x = c.tensor(0);
  int64_t units;
  if (x == kNoNode || !c.width(c.arg(1), "'units' of 'dense'", units)) return Value{};
  InputInfo* by = c.route(2);
  if (c.arg(2) && !by) return Value{};
  return Value::tensor(c.builder().dense(x, units, c.nextName(), c.loc(), by));
}

bool checkMlpWidths(BuiltinCheck& c, const Expr* arg) {
  auto* widths = dynCast<ListExpr>(arg);
  if (!widths) {
    c.error(arg->loc, "'widths' of 'mlp' must be a list of layer widths, e.g. [512, 256]");
    return false;
  }
  if (widths->items.empty()) {
    c.error(widths->loc, "'mlp' needs at least one layer width");
    return false;
  }
  bool ok = true;
  for (const auto& w : widths->items) ok &= c.integer(w.get(), 1, kMaxWidth, "a layer width");
  return ok;
}

bool checkActivation(BuiltinCheck& c, const Expr* arg) {
  auto* act = dynCast<NameExpr>(arg);
  static const std::vector<std::string> kActs = {"relu", "tanh", "sigmoid", "linear"};
  if (act && std::find(kActs.begin(), kActs.end(), act->name) != kActs.end()) return true;
  c.error(arg->loc, "unknown activation" +
                        (act ? " '" + act->name + "'" + didYouMean(act->name, kActs)
                             : std::string()) +
                        "; expected relu, tanh, sigmoid or linear");
  return false;
}

bool checkMlp(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  if (c.arg(4)) ok &= c.ids(4);
  ok &= checkMlpWidths(c, c.arg(1));
  if (c.arg(2)) ok &= c.inRange(c.arg(2), 0, 1, true, "'dropout' of 'mlp'");
  if (c.arg(3)) ok &= checkActivation(c, c.arg(3));
  return ok;
}

Value buildMlp(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId h = c.tensor(0);
  if (h == kNoNode) return Value{};
  std::string base = c.nextName();
  std::string act = "relu";
  if (auto* a = dynCast<NameExpr>(c.arg(3))) act = a->name;
  double p = 0;
  if (c.arg(2) && !c.probability(c.arg(2), "'dropout' of 'mlp'", p)) return Value{};
  InputInfo* by = c.route(4);
  if (c.arg(4) && !by) return Value{};
  auto* widths = dynCast<ListExpr>(c.arg(1));
  for (size_t i = 0; widths && i < widths->items.size() && h != kNoNode; ++i) {
    int64_t units;
    if (!c.width(widths->items[i].get(), "a layer width", units)) return Value{};
    h = g.dense(h, units, base + ".l" + std::to_string(i), loc, by);
    h = g.activation(h, act, loc);
    h = g.dropout(h, p, loc);
  }
  return Value::tensor(h);
}

} // namespace

std::span<const BuiltinRecord> layerBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "embed", .context = kExpr, .params = {{"table", true}, {"ids", true}},
       .usage = "embed(table, ids)", .check = checkEmbed, .build = buildEmbed},
      {.name = "concat", .context = kExpr, .params = {{"axis", false}}, .variadic = true,
       .usage = "concat(x, y, ..., axis = -1)", .check = checkConcat, .build = buildConcat},
      {.name = "dense", .context = kExpr, .params = {{"x", true}, {"units", true}, {"by", false}},
       .usage = "dense(x, units)", .check = checkDense, .build = buildDense},
      {.name = "mlp", .context = kExpr,
       .params = {{"x", true}, {"widths", true}, {"dropout", false}, {"activation", false},
                  {"by", false}},
       .usage = "mlp(x, [w1, w2, ...], dropout = p, activation = relu)", .check = checkMlp,
       .build = buildMlp},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
