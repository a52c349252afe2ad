// SemaInput: the checks of `input` declarations and their types:
//   id(V) | id(vocab = "file.txt") | id(hash = N)          [na = id]
//   ids(V | vocab = "file.txt" | hash = N, len = L, words = W)
//   dense | dense(none | zscore | tanh_zscore | log1p)     [na = x]
//   bucketize([b1, ..., bn])                               [na = id]
// A vocabulary file's size is only known when BuildGraph reads it, so its
// input's vocabulary is 0 here and the checks that need it wait until then.
#include "dsl/BuiltinCheck.h"
#include "dsl/SemaChecker.h"
#include "dsl/Suggest.h"

#include <algorithm>
#include <cmath>

namespace recc::sema {

void Sema::checkInput(const InputDecl& in, std::map<std::string, Symbol>& into,
                      const Scope* scope) {
  std::vector<const Expr*> args;
  Symbol sym{Symbol::Kind::DenseInput, in.loc};
  if (const BuiltinRecord* sig = contextCall(*in.type, BuiltinContext::InputType, "input type", args)) {
    if (isBuiltin(sig, "id") || isBuiltin(sig, "ids"))
      checkIdType(*sig, args, in.type->loc, sym);
    else if (isBuiltin(sig, "bucketize"))
      checkBucketize(args, sym);
    else
      checkDenseType(args);
  }
  for (const auto& n : in.names) {
    if (!n.column.empty() || n.columnLoc.known()) {
      if (n.column.empty()) error(n.columnLoc, "column name must not be empty");
    }
    declare(into, n, sym, scope);
  }
}

/// id(...) / ids(...): exactly one of a vocabulary size, a vocabulary file
/// (vocab = "file") and a bucket count (hash = N).
void Sema::checkIdType(const BuiltinRecord& sig, const std::vector<const Expr*>& args,
                       const SourceLoc& typeLoc, Symbol& sym) {
  const bool ids = isBuiltin(&sig, "ids");
  sym.kind = ids ? Symbol::Kind::IdsInput : Symbol::Kind::IdInput;
  const Expr* vocab = args[0];
  const Expr* hash = ids ? args[3] : args[1];
  if (vocab && hash) {
    error(hash->loc, std::string("'") + sig.name + "' takes a vocabulary or 'hash = N', not both");
  } else if (!vocab && !hash) {
    error(typeLoc, std::string("'") + sig.name + "' needs a vocabulary size, a vocabulary file (vocab = "
          "\"file.txt\") or a bucket count (hash = N); usage: " + sig.usage);
  } else if (hash) {
    constInt(hash, 1, kMaxRows, "the number of hash buckets", sym.vocab);
  } else if (auto* file = dynCast<StringExpr>(vocab)) {
    if (file->value.empty()) error(file->loc, "the vocabulary file name must not be empty");
  } else {
    constInt(vocab, 1, kMaxRows, "the vocabulary size", sym.vocab);
  }
  int64_t len;
  if (ids) constInt(args[1], 1, 1 << 16, "'len' of 'ids'", len);
  if (ids && args[2])
    constInt(args[2], 1, 4096, "'words' of 'ids'", len);
  if (!ids && args[2]) checkIdNa(args[2], sym);
}

/// `na = id` of a single id input: an id below its vocabulary (a vocabulary
/// file's size is checked when BuildGraph reads it).
void Sema::checkIdNa(const Expr* na, const Symbol& sym) {
  int64_t id = 0;
  const int64_t hi = sym.vocab > 0 ? sym.vocab - 1 : kMaxRows;
  constInt(na, 0, hi, "'na' (the id an empty cell stands for)", id);
}

void Sema::checkDenseType(const std::vector<const Expr*>& args) {
  if (args[0]) {
    auto* t = dynCast<NameExpr>(args[0]);
    const std::vector<std::string> known = {"none", "zscore", "tanh_zscore", "log1p"};
    if (!t || std::find(known.begin(), known.end(), t->name) == known.end())
      error(args[0]->loc, "unknown dense transform" +
                              (t ? " '" + t->name + "'" + didYouMean(t->name, known)
                                 : std::string()) +
                              "; expected 'none', 'zscore', 'tanh_zscore' or 'log1p'");
  }
  double na;
  if (args[1] && constNumber(args[1], "'na' (the value an empty cell stands for)", na)) {
    auto* t = dynCast<NameExpr>(args[0]);
    if (!std::isfinite(na))
      error(args[1]->loc, "'na' must be a finite number");
    else if (t && t->name == "log1p" && !(na > -1))
      error(args[1]->loc, "'na' of a log1p input must be greater than -1, got " + fmtNumber(na));
  }
}

/// bucketize([b1, ..., bn]): constant, strictly increasing boundaries; the
/// input is an id input of n + 1 ids.
void Sema::checkBucketize(const std::vector<const Expr*>& args, Symbol& sym) {
  sym.kind = Symbol::Kind::IdInput;
  auto* list = dynCast<ListExpr>(args[0]);
  if (!list || list->items.empty()) {
    error(args[0]->loc, "'bucketize' needs a list of boundaries, e.g. bucketize([0, 1, 10, 100])");
    return;
  }
  double prev = 0;
  for (size_t i = 0; i < list->items.size(); ++i) {
    double b;
    const Expr* item = list->items[i].get();
    if (!constNumber(item, "a bucket boundary", b)) return;
    if (!std::isfinite(b)) {
      error(item->loc, "a bucket boundary must be finite");
      return;
    }
    if (i > 0 && !(b > prev)) {
      error(item->loc, "bucket boundaries must be strictly increasing, but " + fmtNumber(b) +
                           " follows " + fmtNumber(prev));
      return;
    }
    prev = b;
  }
  sym.vocab = static_cast<int64_t>(list->items.size()) + 1;
  if (args[1]) checkIdNa(args[1], sym);
}

} // namespace recc::sema
