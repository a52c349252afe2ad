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

/// Ranking metrics score a top_k output (the retrieved item ids, best first)
/// against the id of the relevant item on each row.
const std::vector<BuiltinParam> kRankingParams = {
    {"top", true}, {"target", true}, {"k", false}, {"by", false}};

const std::vector<BuiltinSig>& table() {
  static const std::vector<BuiltinSig> kTable = {
      {K::Embed, "embed", C::Expr, {{"table", true}, {"ids", true}}, false, "embed(table, ids)"},
      {K::Concat, "concat", C::Expr, {{"axis", false}}, true, "concat(x, y, ..., axis = -1)"},
      {K::Dense, "dense", C::Expr, {{"x", true}, {"units", true}, {"by", false}}, false,
       "dense(x, units)"},
      {K::Mlp, "mlp", C::Expr,
       {{"x", true}, {"widths", true}, {"dropout", false}, {"activation", false}, {"by", false}},
       false, "mlp(x, [w1, w2, ...], dropout = p, activation = relu)"},
      {K::Relu, "relu", C::Expr, {{"x", true}}, false, "relu(x)"},
      {K::Sigmoid, "sigmoid", C::Expr, {{"x", true}}, false, "sigmoid(x)"},
      {K::Tanh, "tanh", C::Expr, {{"x", true}}, false, "tanh(x)"},
      {K::Exp, "exp", C::Expr, {{"x", true}}, false, "exp(x)"},
      {K::Log, "log", C::Expr, {{"x", true}}, false, "log(x)"},
      {K::Softplus, "softplus", C::Expr, {{"x", true}}, false, "softplus(x)"},
      {K::Step, "step", C::Expr, {{"x", true}}, false, "step(x)"},
      {K::Clamp, "clamp", C::Expr, {{"x", true}, {"lo", true}, {"hi", true}}, false,
       "clamp(x, lo, hi)"},
      {K::Dropout, "dropout", C::Expr, {{"x", true}, {"p", true}}, false, "dropout(x, p)"},
      {K::Bce, "bce", C::Expr, {{"p", true}, {"y", true}, {"weight", false}, {"where", false}},
       false, "bce(p, y, weight = w, where = mask)"},
      {K::BceLogits, "bce_logits", C::Expr,
       {{"z", true}, {"y", true}, {"weight", false}, {"where", false}}, false,
       "bce_logits(z, y, weight = w, where = mask)"},
      {K::Mean, "mean", C::Expr, {{"x", true}, {"axis", false}, {"where", false}}, false,
       "mean(x, axis = a, where = mask)"},
      {K::Sum, "sum", C::Expr, {{"x", true}, {"axis", false}, {"where", false}}, false,
       "sum(x, axis = a, where = mask)"},
      {K::Max, "max", C::Expr, {{"x", true}, {"axis", false}}, false, "max(x, axis = a)"},
      {K::Mask, "mask", C::Expr, {{"ids", true}}, false, "mask(ids)"},
      {K::OneHot, "one_hot", C::Expr, {{"ids", true}}, false, "one_hot(ids)"},
      {K::MaskedMean, "masked_mean", C::Expr, {{"x", true}, {"mask", true}}, false,
       "masked_mean(x, mask)"},
      {K::MaskedSum, "masked_sum", C::Expr, {{"x", true}, {"mask", true}}, false,
       "masked_sum(x, mask)"},
      {K::Dot, "dot", C::Expr, {{"u", true}, {"v", true}}, false, "dot(u, v)"},
      {K::Cosine, "cosine", C::Expr, {{"u", true}, {"v", true}}, false, "cosine(u, v)"},
      {K::L2Normalize, "l2_normalize", C::Expr, {{"x", true}, {"eps", false}}, false,
       "l2_normalize(x, eps = 1e-12)"},
      {K::Softmax, "softmax", C::Expr, {{"x", true}}, false, "softmax(x)"},
      {K::MaskedSoftmax, "masked_softmax", C::Expr, {{"x", true}, {"mask", true}}, false,
       "masked_softmax(x, mask)"},
      {K::WeightedSum, "weighted_sum", C::Expr, {{"weights", true}, {"values", true}}, false,
       "weighted_sum(weights, values)"},
      {K::RepeatLike, "repeat_like", C::Expr, {{"x", true}, {"like", true}}, false,
       "repeat_like(x, like)"},
      {K::Stack, "stack", C::Expr, {}, true, "stack(x, y, ...)"},
      {K::Take, "take", C::Expr, {{"x", true}, {"index", true}}, false, "take(x, index)"},
      {K::Squeeze, "squeeze", C::Expr, {{"x", true}}, false, "squeeze(x)"},
      {K::MatMul, "matmul", C::Expr, {{"a", true}, {"b", true}, {"transpose_b", false}}, false,
       "matmul(a, b, transpose_b = 0)"},
      {K::SplitHeads, "split_heads", C::Expr, {{"x", true}, {"heads", true}}, false,
       "split_heads(x, heads)"},
      {K::MergeHeads, "merge_heads", C::Expr, {{"x", true}}, false, "merge_heads(x)"},
      {K::CausalMask, "causal_mask", C::Expr, {{"size", true}}, false, "causal_mask(size)"},
      {K::LayerNorm, "layer_norm", C::Expr, {{"x", true}, {"eps", false}}, false,
       "layer_norm(x, eps = 1e-8)"},
      {K::BatchNorm, "batch_norm", C::Expr,
       {{"x", true}, {"momentum", false}, {"eps", false}, {"by", false}}, false,
       "batch_norm(x, momentum = 0.99, eps = 1e-3, by = ids)"},
      {K::RunningMean, "running_mean", C::Expr, {{"x", true}, {"decay", false}, {"where", false}},
       false, "running_mean(x, decay = 0.9, where = mask)"},
      {K::Param, "param", C::Expr, {{"shape", true}, {"init", false}, {"by", false}}, false,
       "param([d1, d2, ...], init = normal(0.01), by = ids)"},
      {K::TopK, "top_k", C::Expr, {{"query", true}, {"items", true}, {"k", true}}, false,
       "top_k(query, items, k)"},
      {K::GroupSum, "group_sum", C::Expr, {{"x", true}, {"by", true}}, false,
       "group_sum(x, by = ids)"},
      {K::Experts, "experts", C::Expr, {}, true, "experts(block, n, args..., by = ids)"},
      {K::StopGradient, "stop_gradient", C::Expr, {{"x", true}}, false, "stop_gradient(x)"},
      {K::GradReverse, "grad_reverse", C::Expr,
       {{"x", true}, {"lambda", true}, {"schedule", false}}, false,
       "grad_reverse(x, lambda, schedule = constant)"},
      {K::TrainOnly, "train_only", C::Expr, {{"x", true}, {"otherwise", true}}, false,
       "train_only(x, otherwise)"},
      {K::Mse, "mse", C::Expr, {{"p", true}, {"y", true}, {"weight", false}, {"where", false}},
       false, "mse(p, y, weight = w, where = mask)"},
      {K::InfoNce, "info_nce", C::Expr,
       {{"scores", true}, {"positive", false}, {"temperature", false}}, false,
       "info_nce(scores, positive = 0, temperature = 1)"},
      {K::Auc, "auc", C::Metric, {{"score", true}, {"label", true}}, false, "auc(score, label)"},
      {K::Gauc, "gauc", C::Metric, {{"score", true}, {"label", true}, {"by", true}}, false,
       "gauc(score, label, by = input)"},
      {K::Logloss, "logloss", C::Metric, {{"score", true}, {"label", true}}, false,
       "logloss(score, label)"},
      {K::Recall, "recall", C::Metric, kRankingParams, false,
       "recall(top, target, k = K, by = input)"},
      {K::Precision, "precision", C::Metric, kRankingParams, false,
       "precision(top, target, k = K, by = input)"},
      {K::HitRate, "hitrate", C::Metric, kRankingParams, false,
       "hitrate(top, target, k = K, by = input)"},
      {K::Ndcg, "ndcg", C::Metric, kRankingParams, false,
       "ndcg(top, target, k = K, by = input)"},
      {K::Mrr, "mrr", C::Metric, kRankingParams, false,
       "mrr(top, target, k = K, by = input)"},
      {K::Map, "map", C::Metric, kRankingParams, false,
       "map(top, target, k = K, by = input)"},
      {K::Adam, "adam", C::Optimizer,
       {{"lr", false}, {"beta1", false}, {"beta2", false}, {"eps", false}}, false,
       "adam(lr, beta1, beta2, eps)"},
      {K::Adagrad, "adagrad", C::Optimizer, {{"lr", false}, {"initial_accumulator", false}},
       false, "adagrad(lr, initial_accumulator)"},
      {K::Sgd, "sgd", C::Optimizer, {{"lr", false}}, false, "sgd(lr)"},
      {K::Uniform, "uniform", C::Init, {{"scale", true}}, false, "uniform(scale)"},
      {K::Normal, "normal", C::Init, {{"stddev", true}}, false, "normal(stddev)"},
      {K::Zeros, "zeros", C::Init, {}, false, "zeros"},
      {K::Ones, "ones", C::Init, {}, false, "ones"},
      {K::Identity, "identity", C::Init, {}, false, "identity"},
      {K::Id, "id", C::InputType, {{"vocab", true}}, false, "id(vocab)"},
      {K::Ids, "ids", C::InputType, {{"vocab", true}, {"len", true}, {"words", false}}, false,
       "ids(vocab, len = L, words = W)"},
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

bool isRankingMetric(BuiltinKind kind) {
  switch (kind) {
  case K::Recall:
  case K::Precision:
  case K::HitRate:
  case K::Ndcg:
  case K::Mrr:
  case K::Map: return true;
  default: return false;
  }
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
