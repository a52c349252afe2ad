// BuiltinCall: a builtin call in an expression is bound to its record's
// parameters and built by the record (compiler/passes/builtins/); this file
// holds that dispatch (GraphBuilder::evalBuiltin) and the argument helpers of
// BuiltinCall.h.
#include "compiler/passes/BuiltinCall.h"

namespace recc::buildgraph {

Value GraphBuilder::evalBuiltin(const BuiltinRecord& record, const CallExpr& c,
                                const std::string& prefix) {
  std::vector<const Expr*> args, kw;
  std::string desc = std::string("'") + record.name + "'";
  if (!record.bindsOwnArgs &&
      !bindArgs(c, desc, record.params, record.variadic, record.usage, args, diag_, 0, &kw)) {
    failed_ = true;
    return Value{};
  }
  if (!record.build) {
    report(c.loc, desc + " cannot be used in an expression");
    return Value{};
  }
  BuiltinCall call(*this, record, c, prefix, std::move(args), std::move(kw));
  return record.build(call);
}

std::string BuiltinCall::argWhat(size_t i) const {
  return record_.variadic ? "argument " + std::to_string(i + 1) + " of " + desc()
                          : "argument '" + std::string(record_.params[i].name) + "' of " + desc();
}

InputInfo* BuiltinCall::ids(size_t i) {
  Value v = eval(i);
  if (!v.ok()) return nullptr;
  if (v.kind != Value::Kind::Ids) {
    builder_.report(args_[i]->loc, argWhat(i) + " must be an id input");
    return nullptr;
  }
  return v.input;
}

} // namespace recc::buildgraph
