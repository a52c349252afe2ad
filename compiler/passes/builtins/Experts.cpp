// Experts: experts(block, n, args..., by = ids) calls a block n times, each
// instance `<block><k>` with its own parameters, and stacks the results along
// axis 1 (mixture-of-experts and multi-gate towers). Its arguments are a
// block call's, so Sema and the builder bind them (bindBlockArgs).
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkExperts(BuiltinCheck& c) { return c.experts(); }

Value buildExperts(BuiltinCall& c) { return c.builder().experts(c.call(), c.prefix()); }

} // namespace

std::span<const BuiltinRecord> expertBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "experts", .context = kExpr, .params = {}, .variadic = true,
       .usage = "experts(block, n, args..., by = ids)", .check = checkExperts,
       .build = buildExperts, .bindsOwnArgs = true},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
