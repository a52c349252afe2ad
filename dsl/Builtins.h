// Builtins: the one table of names the language predefines — layers and
// functions usable in expressions, metrics, optimizers, table initializers and
// input types — with their parameters. Sema checks calls against it and
// BuildGraph dispatches on BuiltinKind, so a builtin's signature is written
// down once.
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <string>
#include <string_view>
#include <vector>

namespace recc {

enum class BuiltinKind {
  // Expressions (layers and functions).
  Embed, Concat, Dense, Mlp, Relu, Sigmoid, Tanh, Exp, Log, Softplus, Step, Clamp, Dropout,
  Bce, BceLogits, Mean, Sum, Max,
  // Sequences, towers and attention.
  Mask, OneHot, MaskedMean, MaskedSum, Dot, Cosine, L2Normalize, Softmax, MaskedSoftmax,
  WeightedSum, RepeatLike, Stack, Take, Squeeze, MatMul, SplitHeads, MergeHeads, CausalMask,
  LayerNorm, BatchNorm, RunningMean, Param, TopK, GroupSum,
  // Experts: `experts(block, n, args...)` calls a block n times and stacks.
  Experts,
  // Gradient flow and modes.
  StopGradient, GradReverse, TrainOnly,
  // Losses.
  Mse, InfoNce,
  // Metrics (in `metric` statements).
  Auc, Gauc, Logloss, Recall, Precision, HitRate, Ndcg, Mrr, Map,
  // Optimizers (in `train { optimizer = ... }`).
  Adam, Adagrad, Sgd,
  // Table initializers (after `init`).
  Uniform, Normal, Zeros, Ones, Identity,
  // Input types (after `input NAME :`).
  Id, Ids, DenseType,
};

/// Where a builtin may be used; the same spelling can mean different things in
/// different places (`dense` is a layer in expressions and a type in `input`).
enum class BuiltinContext { Expr, Metric, Optimizer, Init, InputType };

struct BuiltinParam {
  const char* name;
  bool required;
};

struct BuiltinSig {
  BuiltinKind kind;
  const char* name;
  BuiltinContext context;
  std::vector<BuiltinParam> params;  ///< positional order; any may also be given by keyword
  bool variadic = false;             ///< concat: any number of positional tensors
  const char* usage = "";            ///< shown in arity errors, e.g. "dense(x, units)"
};

/// The builtin called `name` in `context`, or null.
const BuiltinSig* findBuiltin(std::string_view name, BuiltinContext context);
/// The builtin called `name` in any context (first match), or null.
const BuiltinSig* findAnyBuiltin(std::string_view name);
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
bool isRankingMetric(BuiltinKind kind);

/// Folds a constant expression (numbers combined with + - * / and unary
/// minus); false if `e` is not constant or divides by zero.
bool constantValue(const ast::Expr& e, double& out);

} // namespace recc
