// BuiltinCall: what a builtin record's build function sees of the call
// BuildGraph is building — its bound arguments, the builder, and argument
// helpers that evaluate with the builtin's messages ("argument 'x' of
// 'dense' must be a tensor, ..."). See dsl/Builtins.h for the records.
#pragma once

#include "compiler/passes/GraphBuilder.h"

namespace recc::buildgraph {

class BuiltinCall {
public:
  BuiltinCall(GraphBuilder& builder, const BuiltinRecord& record, const CallExpr& call,
              const std::string& prefix, std::vector<const Expr*> args,
              std::vector<const Expr*> keywords)
      : builder_(builder), record_(record), call_(call), prefix_(prefix), args_(std::move(args)),
        keywords_(std::move(keywords)) {}

  GraphBuilder& builder() { return builder_; }
  const CallExpr& call() const { return call_; }
  const SourceLoc& loc() const { return call_.loc; }
  /// The path that names the parameters this call creates.
  const std::string& prefix() const { return prefix_; }

  /// The argument bound to parameter `i` (null if omitted); for a variadic
  /// builtin, the i-th positional argument.
  const Expr* arg(size_t i) const { return args_[i]; }
  size_t argCount() const { return args_.size(); }
  /// A variadic builtin's keyword-only parameter `i` (concat's axis), or null.
  const Expr* keyword(size_t i) const { return i < keywords_.size() ? keywords_[i] : nullptr; }
  /// "'dense'", for messages.
  std::string desc() const { return std::string("'") + record_.name + "'"; }
  /// "argument 'x' of 'dense'" (or "argument 2 of 'concat'").
  std::string argWhat(size_t i) const;

  Value eval(size_t i) { return builder_.eval(*args_[i], prefix_); }
  Value eval(const Expr& e) { return builder_.eval(e, prefix_); }
  /// Argument `i` evaluated as a tensor; kNoNode after reporting otherwise.
  NodeId tensor(size_t i) { return tensorOf(eval(i), i); }
  NodeId tensorOf(const Value& v, size_t i) { return builder_.tensorOf(v, *args_[i], argWhat(i)); }
  /// Argument `i` (or `e`) as a constant number.
  bool number(size_t i, double& out) { return number(args_[i], argWhat(i), out); }
  bool number(const Expr* e, const std::string& what, double& out) {
    return builder_.number(e, prefix_, what, out);
  }
  /// Argument `i` as a number, `dflt` if omitted.
  bool numberOr(size_t i, double dflt, double& out) {
    out = dflt;
    return !args_[i] || number(i, out);
  }
  bool width(const Expr* e, const std::string& what, int64_t& out) {
    return builder_.width(e, prefix_, what, out);
  }
  bool probability(const Expr* e, const std::string& what, double& out) {
    return builder_.probability(e, prefix_, what, out);
  }
  /// Argument `i` as an id input; null after reporting otherwise.
  InputInfo* ids(size_t i);
  /// Argument `i` as a layer's `by` (one set of parameters per id); null if
  /// omitted or after reporting.
  InputInfo* route(size_t i) { return builder_.routeArg(args_[i], prefix_); }
  /// The name of the next instance of this builtin in the statement
  /// (`<prefix>.dense0`), under which its parameters are named.
  std::string nextName() { return builder_.nextName(prefix_, record_.name); }
  /// Reports `msg` at the call; returns the error value.
  Value fail(const std::string& msg) {
    builder_.report(call_.loc, msg);
    return Value{};
  }

private:
  GraphBuilder& builder_;
  const BuiltinRecord& record_;
  const CallExpr& call_;
  const std::string& prefix_;
  std::vector<const Expr*> args_, keywords_;
};

} // namespace recc::buildgraph
