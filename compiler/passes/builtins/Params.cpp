// Params: param([d1, d2, ...], init = ..., by = ids), a free parameter (one
// per id with `by`), e.g. the cross-stitch units of multi-task towers.
#include "compiler/passes/builtins/Families.h"

#include "dsl/Sema.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkParam(BuiltinCheck& c) {
  bool ok = true;
  auto* shape = dynCast<ListExpr>(c.arg(0));
  if (!shape || shape->items.empty()) {
    c.error(c.arg(0)->loc, "'shape' of 'param' must be a list of extents, e.g. [10, 128]");
    ok = false;
  } else {
    for (const auto& d : shape->items)
      ok &= c.integer(d.get(), 1, kMaxWidth, "an extent of 'param'");
  }
  if (c.arg(1)) ok &= c.initializer(*c.arg(1));
  if (c.arg(2)) ok &= c.ids(2);
  return ok;
}

/// The initializer written after `init =` (default: uniform(0.05)). Its
/// scale is any constant: a literal, a name assigned a number or a block
/// parameter that receives one (STAR's star_fc(x, n, m, g, s) passes its
/// glorot scale g). False after reporting a scale that is not a number.
bool initializerOf(BuiltinCall& c, const Expr* e, rt::InitSpec& init) {
  init = {"uniform", 0.05};
  if (auto* n = dynCast<NameExpr>(e)) init = {n->name, 0.0};
  if (auto* ic = dynCast<CallExpr>(e)) {
    init = {ic->callee, 0.0};
    if (!ic->args.empty())
      return c.number(ic->args[0].value.get(), "the scale of '" + ic->callee + "'", init.scale);
  }
  return true;
}

Value buildParam(BuiltinCall& c) {
  std::vector<int64_t> shape;
  for (const auto& d : dynCast<ListExpr>(c.arg(0))->items) {
    int64_t w;
    if (!c.width(d.get(), "an extent of 'param'", w)) return Value{};
    shape.push_back(w);
  }
  rt::InitSpec init;
  if (!initializerOf(c, c.arg(1), init)) return Value{};
  // Cross-stitch units start as the identity (each column keeps its own
  // task); per-id parameters get one identity per id.
  size_t r = shape.size();
  if (init.kind == "identity" && (r < 2 || shape[r - 1] != shape[r - 2]))
    return c.fail("'identity' needs a square parameter (its last two extents equal), but the "
                  "shape is " + Shape(shape).str());
  InputInfo* by = c.route(2);
  if (c.arg(2) && !by) return Value{};
  bool perRow;
  return Value::tensor(c.builder().weight(c.nextName(), shape, init, c.loc(), by, perRow));
}

} // namespace

std::span<const BuiltinRecord> paramBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "param", .context = kExpr,
       .params = {{"shape", true}, {"init", false}, {"by", false}},
       .usage = "param([d1, d2, ...], init = normal(0.01), by = ids)", .check = checkParam,
       .build = buildParam},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
