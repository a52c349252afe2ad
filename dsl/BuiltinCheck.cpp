// BuiltinCheck: the argument checks a builtin record's check function calls,
// forwarded to Sema (see BuiltinCheck.h).
#include "dsl/BuiltinCheck.h"

#include "dsl/SemaChecker.h"

namespace recc::sema {

std::string BuiltinCheck::argWhat(size_t i) const {
  return record_.variadic
             ? "argument " + std::to_string(i + 1) + " of '" + record_.name + "'"
             : "argument '" + std::string(record_.params[i].name) + "' of '" + record_.name + "'";
}

bool BuiltinCheck::tensor(size_t i, bool allowNumber) {
  Ty t = sema_.checkExpr(*args_[i], scope_);
  return sema_.requireTensor(*args_[i], t, argWhat(i), allowNumber);
}

bool BuiltinCheck::ids(size_t i) {
  return sema_.requireIds(*args_[i], sema_.checkExpr(*args_[i], scope_), argWhat(i));
}

bool BuiltinCheck::integer(const Expr* e, int64_t lo, int64_t hi, const std::string& what) {
  int64_t n;
  return sema_.constInt(e, lo, hi, what, n);
}

bool BuiltinCheck::inRange(const Expr* e, double lo, double hi, bool hiOpen,
                           const std::string& what) {
  return sema_.constRange(e, lo, hi, hiOpen, what);
}

Const BuiltinCheck::constant(const Expr* e, const std::string& what, double& out) {
  return sema_.constant(e, what, out);
}

bool BuiltinCheck::initializer(const Expr& e) {
  std::vector<const Expr*> initArgs;
  return sema_.contextCall(e, BuiltinContext::Init, "initializer", initArgs) != nullptr;
}

void BuiltinCheck::embedding(const Expr& table, const Expr& ids) {
  sema_.checkEmbed(call_, table, ids, scope_);
}

bool BuiltinCheck::experts() { return sema_.checkExperts(call_, scope_) != Ty::Error; }

void BuiltinCheck::error(const SourceLoc& loc, const std::string& msg) { sema_.error(loc, msg); }

} // namespace recc::sema
