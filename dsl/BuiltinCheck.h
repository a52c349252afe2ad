// BuiltinCheck: what a builtin record's check function sees of the call Sema
// is checking — its bound arguments and Sema's argument checks, each of which
// reports its own message. The records live in compiler/passes/builtins/ (see
// dsl/Builtins.h); this is the only part of Sema they use.
#pragma once

#include "dsl/Builtins.h"

#include <cstdio>
#include <string>
#include <vector>

namespace recc::sema {

class Sema;
struct Scope;

/// A constant argument. Known: its value is known. Deferred: the number comes
/// through a block parameter or a number-valued name, and BuildGraph checks it.
enum class Const { Known, Deferred, Invalid };

/// A number as messages print it (%g).
inline std::string fmtNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

class BuiltinCheck {
public:
  BuiltinCheck(Sema& sema, Scope& scope, const BuiltinRecord& record, const ast::CallExpr& call,
               std::vector<const ast::Expr*> args, std::vector<const ast::Expr*> keywords)
      : sema_(sema), scope_(scope), record_(record), call_(call), args_(std::move(args)),
        keywords_(std::move(keywords)) {}

  const BuiltinRecord& record() const { return record_; }
  const ast::CallExpr& call() const { return call_; }
  /// The argument bound to parameter `i` (null if omitted); for a variadic
  /// builtin, the i-th positional argument.
  const ast::Expr* arg(size_t i) const { return args_[i]; }
  size_t argCount() const { return args_.size(); }
  /// A variadic builtin's keyword-only parameter `i` (concat's axis), or null.
  const ast::Expr* keyword(size_t i) const { return i < keywords_.size() ? keywords_[i] : nullptr; }
  /// "argument 'x' of 'relu'" (or "argument 2 of 'concat'"), for messages.
  std::string argWhat(size_t i) const;

  /// Argument `i` is a tensor (or, with allowNumber, a number).
  bool tensor(size_t i, bool allowNumber = false);
  /// Argument `i` is an id input.
  bool ids(size_t i);
  /// `e` is a constant integer in [lo, hi] (or deferred to BuildGraph).
  bool integer(const ast::Expr* e, int64_t lo, int64_t hi, const std::string& what);
  /// `e` is a constant in [lo, hi] (or [lo, hi) with hiOpen), or deferred.
  bool inRange(const ast::Expr* e, double lo, double hi, bool hiOpen, const std::string& what);
  /// `e` as a constant: its value when Known; reports when Invalid.
  Const constant(const ast::Expr* e, const std::string& what, double& out);
  /// True when `e` is a constant whose value is known (in `out`).
  bool knownNumber(const ast::Expr* e, const std::string& what, double& out) {
    return constant(e, what, out) == Const::Known;
  }
  /// `e` is an initializer (uniform(s), normal(s), zeros, ones, identity).
  bool initializer(const ast::Expr& e);
  /// embed's arguments: a table and an id input whose vocabulary fits it
  /// (needs the symbols' declarations, which only Sema has).
  void embedding(const ast::Expr& table, const ast::Expr& ids);
  /// experts(block, n, args...): a block, a count and the block's arguments.
  bool experts();

  void error(const SourceLoc& loc, const std::string& msg);

private:
  Sema& sema_;
  Scope& scope_;
  const BuiltinRecord& record_;
  const ast::CallExpr& call_;
  std::vector<const ast::Expr*> args_, keywords_;
};

} // namespace recc::sema
