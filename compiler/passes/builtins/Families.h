// Families: the builtin records of the language, one file per family; each
// file defines its records (signature, checks with their messages, graph
// construction — see dsl/Builtins.h) and returns them from one function.
// Registry.cpp registers the families with the dsl in the order of the
// language reference.
#pragma once

#include "compiler/passes/BuiltinCall.h"
#include "dsl/BuiltinCheck.h"

#include <span>

namespace recc::buildgraph::builtins {

using sema::BuiltinCheck;
using sema::Const;
using sema::fmtNumber;
inline constexpr BuiltinContext kExpr = BuiltinContext::Expr;

std::span<const BuiltinRecord> layerBuiltins();         // embed, concat, dense, mlp
std::span<const BuiltinRecord> elementwiseBuiltins();   // relu, ..., clamp, dropout
std::span<const BuiltinRecord> crossEntropyBuiltins();  // bce, bce_logits
std::span<const BuiltinRecord> reductionBuiltins();     // mean, sum, max
std::span<const BuiltinRecord> sequenceBuiltins();      // masks, pooling, similarity, shapes
std::span<const BuiltinRecord> attentionBuiltins();     // matmul, heads, causal_mask
std::span<const BuiltinRecord> normalizationBuiltins(); // layer_norm, batch_norm, running_mean
std::span<const BuiltinRecord> paramBuiltins();         // param
std::span<const BuiltinRecord> retrievalBuiltins();     // top_k, group_sum
std::span<const BuiltinRecord> expertBuiltins();        // experts
std::span<const BuiltinRecord> gradientFlowBuiltins();  // stop_gradient, grad_reverse, train_only
std::span<const BuiltinRecord> lossBuiltins();          // mse, info_nce

/// Registers every family with the dsl (see dsl/Builtins.h); idempotent.
void registerLanguageBuiltins();

/// The check of a builtin whose only argument is a tensor.
inline bool oneTensor(BuiltinCheck& c) { return c.tensor(0); }
/// The check of a builtin of two tensors.
inline bool twoTensors(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.tensor(1);
  return ok;
}

/// A normalization's `eps`, if given and known, is positive. An eps Sema
/// cannot read reports, but does not make the call an error value.
inline bool positiveEps(BuiltinCheck& c, const Expr* eps) {
  double v;
  std::string what = std::string("'eps' of '") + c.record().name + "'";
  if (eps && c.knownNumber(eps, what, v) && !(v > 0)) {
    c.error(eps->loc, what + " must be positive, got " + fmtNumber(v));
    return false;
  }
  return true;
}

} // namespace recc::buildgraph::builtins
