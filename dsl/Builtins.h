// Builtins: the one table of names the language predefines — layers and
// functions usable in expressions, metrics, optimizers, table initializers and
// input types. Each is ONE declarative record (BuiltinRecord), in the spirit of
// MLIR's ODS: its name, where it may be used, its parameters and usage line,
// the checks of its arguments with their messages (run by Sema), and how it
// builds its graph (run by BuildGraph). Sema and BuildGraph bind a call's
// arguments with the same binder (bindArgs) and then call the record.
//
// Where the records live: a record's build function needs the graph IR, which
// the dsl must not see (dsl -> runtime -> compiler), so the expression builtins
// are defined in compiler/passes/builtins/*.cpp, one file per family, and
// recc_compiler registers them here when it is loaded (registerBuiltins, called
// from BuildGraph.cpp). The dsl declares the record type and the checking API
// its check functions use (dsl/BuiltinCheck.h) and names the builder's types
// only as opaque declarations. The builtins with no graph of their own
// (metrics, optimizers, initializers, input types) are record rows in
// Builtins.cpp, without check or build functions: Sema.cpp checks them where
// they appear and BuildGraph reads them into the ModelPlan.
//
// Adding an expression builtin = writing one record in the family file of
// compiler/passes/builtins/ (plus its op, if it needs a new primitive).
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recc {

namespace sema {
class BuiltinCheck;  // dsl/BuiltinCheck.h: Sema's view of a call being checked
}
namespace buildgraph {
struct Value;        // compiler/passes/GraphBuilder.h
class BuiltinCall;   // compiler/passes/BuiltinCall.h: the builder's view of a call
}

/// Where a builtin may be used; the same spelling can mean different things in
/// different places (`dense` is a layer in expressions and a type in `input`).
enum class BuiltinContext { Expr, Metric, Optimizer, Init, InputType };

struct BuiltinParam {
  const char* name;
  bool required;
};

struct BuiltinRecord {
  const char* name;
  BuiltinContext context;
  std::vector<BuiltinParam> params;  ///< positional order; any may also be given by keyword
  bool variadic = false;             ///< concat: any number of positional tensors
  const char* usage = "";            ///< shown in arity errors, e.g. "dense(x, units)"
  /// Expression builtins: checks the bound arguments (kinds, constants),
  /// reporting with the builtin's messages; false if the call is invalid.
  bool (*check)(sema::BuiltinCheck&) = nullptr;
  /// Expression builtins: builds the call's graph from the bound arguments.
  buildgraph::Value (*build)(buildgraph::BuiltinCall&) = nullptr;
  /// experts(block, n, args...): the arguments are a block call's, which the
  /// check and build functions bind themselves (bindBlockArgs).
  bool bindsOwnArgs = false;
};

/// Adds expression builtins to the language (see the file comment); records
/// already registered are ignored. Their order is the order of "did you mean"
/// candidates, and they come before the dsl's own rows in findAnyBuiltin.
void registerBuiltins(std::span<const BuiltinRecord> records);

/// The builtin called `name` in `context`, or null.
const BuiltinRecord* findBuiltin(std::string_view name, BuiltinContext context);
/// The builtin called `name` in any context (first match), or null.
const BuiltinRecord* findAnyBuiltin(std::string_view name);
/// All builtin names usable in `context` (for "did you mean").
std::vector<std::string> builtinNames(BuiltinContext context);
/// "a layer or function", "a metric", "an optimizer", ...
const char* contextNoun(BuiltinContext context);

/// Binds a call's arguments to parameters: positional arguments in order, then
/// keywords by name. `out[i]` is the argument for params[i] (null if omitted);
/// for a variadic builtin every argument is appended. Reports unknown or
/// repeated keywords, too many arguments and missing required ones at the
/// call; returns false if it reported anything.
/// The first `skip` arguments of the call are not bound (experts(block, n, ...)).
/// For a variadic builtin, `params` are keyword-only parameters (concat's
/// axis), bound into `*keywords` when given.
bool bindArgs(const ast::CallExpr& call, const std::string& calleeDesc,
              const std::vector<BuiltinParam>& params, bool variadic, const char* usage,
              std::vector<const ast::Expr*>& out, DiagnosticEngine& diag, size_t skip = 0,
              std::vector<const ast::Expr*>* keywords = nullptr);

/// Binds a call of a block with parameters `blockParams`: positional arguments
/// fill the block's parameters (too many is an error); keywords may also be
/// the block-call keywords, whose arguments go to `mods` (by, share, ema,
/// decay; null if absent). Reports like bindArgs.
bool bindBlockArgs(const ast::CallExpr& call, const std::string& blockName,
                   const std::vector<std::string>& blockParams, std::vector<const ast::Expr*>& args,
                   std::vector<const ast::Expr*>& mods, DiagnosticEngine& diag, size_t skip = 0);

/// Keywords every block call accepts besides the block's parameters:
/// `by = <id input>` (one set of parameters per id value, e.g. per scenario),
/// `share = <value>` (reuse the parameters of the instance that computed that
/// value), `ema = <value>` with `decay = d` (use EMA shadow copies of them).
inline constexpr const char* kBlockCallKeywords[] = {"by", "share", "ema", "decay"};
bool isBlockCallKeyword(std::string_view name);

/// recall, precision, hitrate, ndcg, mrr, map: metrics of a top_k output
/// (retrieved item ids) against a target item id, per request.
bool isRankingMetric(const BuiltinRecord& metric);
/// True if `b` is the builtin called `name` (for the rows Sema and BuildGraph
/// treat specially: gauc, identity, id, ids).
inline bool isBuiltin(const BuiltinRecord* b, std::string_view name) {
  return b && name == b->name;
}

/// Folds a constant expression (numbers combined with + - * / and unary
/// minus); false if `e` is not constant or divides by zero.
bool constantValue(const ast::Expr& e, double& out);

} // namespace recc
