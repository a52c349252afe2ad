// Builtins: the builtin table and the argument binder shared by Sema and
// BuildGraph (see Builtins.h).
#include "dsl/Builtins.h"

#include "dsl/Suggest.h"

#include <algorithm>
#include <cmath>

namespace recc {

using namespace ast;

namespace {
using C = BuiltinContext;

/// Ranking metrics score a top_k output (the retrieved item ids, best first)
/// against the id of the relevant item on each row.
const std::vector<BuiltinParam> kRankingParams = {
    {"top", true}, {"target", true}, {"k", false}, {"by", false}};

/// The metrics of one score per row against a label; `by` (optional) breaks
/// them down by an input column.
const std::vector<BuiltinParam> kBinaryParams = {{"score", true}, {"label", true}, {"by", false}};

/// The builtins that build no graph of their own: metrics, optimizers, table
/// initializers and input types.
const std::vector<BuiltinRecord>& ownRows() {
  static const std::vector<BuiltinRecord> kRows = {
      {"auc", C::Metric, kBinaryParams, false, "auc(score, label, by = input)"},
      {"gauc", C::Metric, {{"score", true}, {"label", true}, {"by", true}, {"reduce", false}},
       false, "gauc(score, label, by = input, reduce = mean)"},
      {"logloss", C::Metric, kBinaryParams, false, "logloss(score, label, by = input)"},
      {"ne", C::Metric, kBinaryParams, false, "ne(score, label, by = input)"},
      {"calibration", C::Metric, kBinaryParams, false, "calibration(score, label, by = input)"},
      {"ctr", C::Metric, kBinaryParams, false, "ctr(score, label, by = input)"},
      {"pctr", C::Metric, kBinaryParams, false, "pctr(score, label, by = input)"},
      {"recall", C::Metric, kRankingParams, false, "recall(top, target, k = K, by = input)"},
      {"precision", C::Metric, kRankingParams, false,
       "precision(top, target, k = K, by = input)"},
      {"hitrate", C::Metric, kRankingParams, false, "hitrate(top, target, k = K, by = input)"},
      {"ndcg", C::Metric, kRankingParams, false, "ndcg(top, target, k = K, by = input)"},
      {"mrr", C::Metric, kRankingParams, false, "mrr(top, target, k = K, by = input)"},
      {"map", C::Metric, kRankingParams, false, "map(top, target, k = K, by = input)"},
      {"adam", C::Optimizer, {{"lr", false}, {"beta1", false}, {"beta2", false}, {"eps", false}},
       false, "adam(lr, beta1, beta2, eps)"},
      {"adagrad", C::Optimizer, {{"lr", false}, {"initial_accumulator", false}}, false,
       "adagrad(lr, initial_accumulator)"},
      {"sgd", C::Optimizer, {{"lr", false}}, false, "sgd(lr)"},
      {"uniform", C::Init, {{"scale", true}}, false, "uniform(scale)"},
      {"normal", C::Init, {{"stddev", true}}, false, "normal(stddev)"},
      {"zeros", C::Init, {}, false, "zeros"},
      {"ones", C::Init, {}, false, "ones"},
      {"identity", C::Init, {}, false, "identity"},
      {"id", C::InputType, {{"vocab", false}, {"hash", false}, {"na", false}}, false,
       "id(V), id(vocab = \"file.txt\") or id(hash = N), each with na = id"},
      {"ids", C::InputType, {{"vocab", false}, {"len", true}, {"words", false}, {"hash", false}},
       false, "ids(V, len = L, words = W), with vocab = \"file.txt\" or hash = N for V"},
      {"dense", C::InputType, {{"transform", false}, {"na", false}}, false,
       "dense, dense(zscore), dense(tanh_zscore) or dense(log1p), with na = x"},
      {"bucketize", C::InputType, {{"boundaries", true}, {"na", false}}, false,
       "bucketize([b1, b2, ...], na = id)"},
  };
  return kRows;
}

/// The expression builtins registered by the compiler, in registration order.
std::vector<const BuiltinRecord*>& registered() {
  static std::vector<const BuiltinRecord*> records;
  return records;
}

/// Every builtin: the registered ones first, then the dsl's own rows.
template <class F> const BuiltinRecord* firstWhere(F pred) {
  for (const BuiltinRecord* b : registered())
    if (pred(*b)) return b;
  for (const BuiltinRecord& b : ownRows())
    if (pred(b)) return &b;
  return nullptr;
}
} // namespace

void registerBuiltins(std::span<const BuiltinRecord> records) {
  for (const BuiltinRecord& r : records)
    if (std::find(registered().begin(), registered().end(), &r) == registered().end())
      registered().push_back(&r);
}

const BuiltinRecord* findBuiltin(std::string_view name, BuiltinContext context) {
  return firstWhere([&](const BuiltinRecord& b) { return b.context == context && name == b.name; });
}

const BuiltinRecord* findAnyBuiltin(std::string_view name) {
  return firstWhere([&](const BuiltinRecord& b) { return name == b.name; });
}

std::vector<std::string> builtinNames(BuiltinContext context) {
  std::vector<std::string> names;
  firstWhere([&](const BuiltinRecord& b) {
    if (b.context == context) names.push_back(b.name);
    return false;
  });
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
              std::vector<const Expr*>& out, DiagnosticEngine& diag, size_t skip,
              std::vector<const Expr*>* keywords) {
  out.assign(variadic ? 0 : params.size(), nullptr);
  if (keywords) keywords->assign(params.size(), nullptr);
  size_t given = call.args.size() > skip ? call.args.size() - skip : 0;
  std::string use = usage && *usage ? std::string(" (usage: ") + usage + ")" : "";
  size_t required = 0;
  for (const auto& p : params) required += p.required;
  bool ok = true;
  size_t positional = 0;
  for (size_t ai = skip; ai < call.args.size(); ++ai) {
    const Arg& a = call.args[ai];
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
                                     expected + ", got " + std::to_string(given) + use);
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
    if (variadic && keywords && idx < params.size()) {
      if ((*keywords)[idx]) {
        diag.error(a.keywordLoc, "argument '" + a.keyword + "' of " + calleeDesc +
                                     " is given more than once");
        ok = false;
      }
      (*keywords)[idx] = a.value.get();
    } else if (variadic || idx == params.size()) {
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
                               std::to_string(required) + ", got " + std::to_string(given) + use);
    else
      diag.error(call.loc, calleeDesc + " needs argument '" + params[i].name + "'" + use);
    return false;
  }
  return true;
}

bool bindBlockArgs(const CallExpr& call, const std::string& blockName,
                   const std::vector<std::string>& blockParams, std::vector<const Expr*>& args,
                   std::vector<const Expr*>& mods, DiagnosticEngine& diag, size_t skip) {
  std::string usage = blockName + "(";
  for (size_t i = 0; i < blockParams.size(); ++i) usage += (i ? ", " : "") + blockParams[i];
  usage += ")";
  std::string desc = "block '" + blockName + "'";
  size_t positional = 0, given = 0;
  for (size_t i = skip; i < call.args.size(); ++i, ++given) {
    if (!call.args[i].keyword.empty()) continue;
    if (++positional == blockParams.size() + 1) {
      size_t total = 0;
      for (size_t j = skip; j < call.args.size(); ++j) total += call.args[j].keyword.empty();
      diag.error(call.args[i].value->loc, "too many arguments to " + desc + ": expected " +
                                              std::to_string(blockParams.size()) + ", got " +
                                              std::to_string(total) + " (usage: " + usage + ")");
      return false;
    }
  }
  std::vector<BuiltinParam> params;
  for (const auto& p : blockParams) params.push_back({p.c_str(), true});
  for (const char* k : kBlockCallKeywords) params.push_back({k, false});
  std::vector<const Expr*> all;
  if (!bindArgs(call, desc, params, false, usage.c_str(), all, diag, skip)) return false;
  args.assign(all.begin(), all.begin() + blockParams.size());
  mods.assign(all.begin() + blockParams.size(), all.end());
  (void)given;
  return true;
}

bool isRankingMetric(const BuiltinRecord& metric) {
  for (const char* name : {"recall", "precision", "hitrate", "ndcg", "mrr", "map"})
    if (isBuiltin(&metric, name)) return true;
  return false;
}

bool isBlockCallKeyword(std::string_view name) {
  for (const char* k : kBlockCallKeywords)
    if (name == k) return true;
  return false;
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
