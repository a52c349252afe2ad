// Builtins: the builtin table and the argument binder shared by Sema and
// BuildGraph (see Builtins.h).
#include "dsl/Builtins.h"

#include "dsl/Suggest.h"

#include <cmath>

namespace recc {

using namespace ast;

namespace {
using C = BuiltinContext;
using K = BuiltinKind;

const std::vector<BuiltinSig>& table() {
  static const std::vector<BuiltinSig> kTable = {
      {K::Embed, "embed", C::Expr, {{"table", true}, {"ids", true}}, false, "embed(table, ids)"},
      {K::Concat, "concat", C::Expr, {}, true, "concat(x, y, ...)"},
      {K::Dense, "dense", C::Expr, {{"x", true}, {"units", true}}, false, "dense(x, units)"},
      {K::Mlp, "mlp", C::Expr,
       {{"x", true}, {"widths", true}, {"dropout", false}, {"activation", false}}, false,
       "mlp(x, [w1, w2, ...], dropout = p, activation = relu)"},
      {K::Relu, "relu", C::Expr, {{"x", true}}, false, "relu(x)"},
      {K::Sigmoid, "sigmoid", C::Expr, {{"x", true}}, false, "sigmoid(x)"},
      {K::Tanh, "tanh", C::Expr, {{"x", true}}, false, "tanh(x)"},
      {K::Exp, "exp", C::Expr, {{"x", true}}, false, "exp(x)"},
      {K::Log, "log", C::Expr, {{"x", true}}, false, "log(x)"},
      {K::Softplus, "softplus", C::Expr, {{"x", true}}, false, "softplus(x)"},
      {K::Clamp, "clamp", C::Expr, {{"x", true}, {"lo", true}, {"hi", true}}, false,
       "clamp(x, lo, hi)"},
      {K::Dropout, "dropout", C::Expr, {{"x", true}, {"p", true}}, false, "dropout(x, p)"},
      {K::Bce, "bce", C::Expr, {{"p", true}, {"y", true}, {"weight", false}}, false,
       "bce(p, y, weight = w)"},
      {K::BceLogits, "bce_logits", C::Expr, {{"z", true}, {"y", true}, {"weight", false}},
       false, "bce_logits(z, y, weight = w)"},
      {K::Mean, "mean", C::Expr, {{"x", true}, {"axis", false}}, false, "mean(x, axis = a)"},
      {K::Sum, "sum", C::Expr, {{"x", true}, {"axis", false}}, false, "sum(x, axis = a)"},
      {K::Auc, "auc", C::Metric, {{"score", true}, {"label", true}}, false, "auc(score, label)"},
      {K::Gauc, "gauc", C::Metric, {{"score", true}, {"label", true}, {"by", true}}, false,
       "gauc(score, label, by = input)"},
      {K::Logloss, "logloss", C::Metric, {{"score", true}, {"label", true}}, false,
       "logloss(score, label)"},
      {K::Adam, "adam", C::Optimizer,
       {{"lr", false}, {"beta1", false}, {"beta2", false}, {"eps", false}}, false,
       "adam(lr, beta1, beta2, eps)"},
      {K::Adagrad, "adagrad", C::Optimizer, {{"lr", false}, {"initial_accumulator", false}},
       false, "adagrad(lr, initial_accumulator)"},
      {K::Sgd, "sgd", C::Optimizer, {{"lr", false}}, false, "sgd(lr)"},
      {K::Uniform, "uniform", C::Init, {{"scale", true}}, false, "uniform(scale)"},
      {K::Normal, "normal", C::Init, {{"stddev", true}}, false, "normal(stddev)"},
      {K::Zeros, "zeros", C::Init, {}, false, "zeros"},
      {K::Id, "id", C::InputType, {{"vocab", true}}, false, "id(vocab)"},
      {K::Ids, "ids", C::InputType, {{"vocab", true}, {"len", true}}, false,
       "ids(vocab, len = L)"},
      {K::DenseType, "dense", C::InputType, {{"transform", false}}, false,
       "dense or dense(tanh_zscore)"},
  };
  return kTable;
}
} // namespace

const BuiltinSig* findBuiltin(std::string_view name, BuiltinContext context) {
  for (const auto& b : table())
    if (b.context == context && name == b.name) return &b;
  return nullptr;
}

const BuiltinSig* findAnyBuiltin(std::string_view name) {
  for (const auto& b : table())
    if (name == b.name) return &b;
  return nullptr;
}

std::vector<std::string> builtinNames(BuiltinContext context) {
  std::vector<std::string> names;
  for (const auto& b : table())
    if (b.context == context) names.push_back(b.name);
  return names;
}

const char* contextNoun(BuiltinContext context) {
  switch (context) {
  case C::Expr: return "a layer or function";
  case C::Metric: return "a metric";
  case C::Optimizer: return "an optimizer";
  case C::Init: return "an initializer";
  case C::InputType: return "an input type";
  }
  return "a builtin";
}

bool bindArgs(const CallExpr& call, const std::string& calleeDesc,
              const std::vector<BuiltinParam>& params, bool variadic, const char* usage,
              std::vector<const Expr*>& out, DiagnosticEngine& diag) {
  out.assign(variadic ? 0 : params.size(), nullptr);
  std::string use = usage && *usage ? std::string(" (usage: ") + usage + ")" : "";
  size_t required = 0;
  for (const auto& p : params) required += p.required;
  bool ok = true;
  size_t positional = 0;
  for (const auto& a : call.args) {
    if (a.keyword.empty()) {
      if (variadic) {
        out.push_back(a.value.get());
      } else if (positional < params.size()) {
        out[positional] = a.value.get();
      } else if (positional == params.size()) {
        std::string expected = required == params.size()
                                   ? std::to_string(params.size())
                                   : "at most " + std::to_string(params.size());
        diag.error(a.value->loc, "too many arguments to " + calleeDesc + ": expected " +
                                     expected + ", got " + std::to_string(call.args.size()) + use);
        ok = false;
      }
      ++positional;
      continue;
    }
    std::vector<std::string> names;
    size_t idx = params.size();
    for (size_t i = 0; i < params.size(); ++i) {
      names.push_back(params[i].name);
      if (a.keyword == params[i].name) idx = i;
    }
    if (variadic || idx == params.size()) {
      diag.error(a.keywordLoc, calleeDesc + " has no argument named '" + a.keyword + "'" +
                                   didYouMean(a.keyword, names));
      ok = false;
    } else if (out[idx]) {
      diag.error(a.keywordLoc, "argument '" + a.keyword + "' of " + calleeDesc +
                                   " is given more than once");
      ok = false;
    } else {
      out[idx] = a.value.get();
    }
  }
  if (variadic && out.empty()) {
    diag.error(call.loc, calleeDesc + " needs at least one argument" + use);
    return false;
  }
  if (!ok) return false;
  for (size_t i = 0; i < params.size() && !variadic; ++i) {
    if (!params[i].required || out[i]) continue;
    if (positional < required)
      diag.error(call.loc, "too few arguments to " + calleeDesc + ": expected " +
                               std::to_string(required) + ", got " +
                               std::to_string(call.args.size()) + use);
    else
      diag.error(call.loc, calleeDesc + " needs argument '" + params[i].name + "'" + use);
    return false;
  }
  return true;
}

bool constantValue(const Expr& e, double& out) {
  if (auto* n = dynCast<NumberExpr>(&e)) {
    out = n->value;
    return true;
  }
  if (auto* ng = dynCast<NegExpr>(&e)) {
    if (!constantValue(*ng->operand, out)) return false;
    out = -out;
    return true;
  }
  if (auto* b = dynCast<BinaryExpr>(&e)) {
    double l, r;
    if (!constantValue(*b->lhs, l) || !constantValue(*b->rhs, r)) return false;
    switch (b->op) {
    case '+': out = l + r; break;
    case '-': out = l - r; break;
    case '*': out = l * r; break;
    case '/':
      if (r == 0) return false;
      out = l / r;
      break;
    default: return false;
    }
    return std::isfinite(out);
  }
  return false;
}

} // namespace recc
