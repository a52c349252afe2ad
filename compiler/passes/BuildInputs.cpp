// BuildInputs: an input declaration's type as the plan's feature: the kind,
// vocabulary, id lookup (hashed, vocabulary file, bucketized), transform and
// `na` default. Sema checked the constants; a vocabulary file is read here,
// relative to the .rec file, because its size is the input's vocabulary
// (lines + 1: id 0 is out of vocabulary; runtime/IdLookup.h).
#include "compiler/passes/GraphBuilder.h"

#include "runtime/Error.h"
#include "runtime/IdLookup.h"

#include <filesystem>

namespace recc::buildgraph {

namespace {
/// `file` relative to the directory of the .rec file at `loc`, made absolute
/// so that a compiled trainer finds it from any working directory.
std::string resolveNextTo(const SourceLoc& loc, const std::string& file) {
  namespace fs = std::filesystem;
  fs::path p(file);
  if (p.is_relative()) p = fs::path(loc.file).parent_path() / p;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}
} // namespace

void GraphBuilder::readInputType(const InputDecl& in, InputInfo& info) {
  info.kind = FeatureKind::Dense;
  std::string type;
  const CallExpr* call = dynCast<CallExpr>(in.type.get());
  if (call) type = call->callee;
  else if (auto* n = dynCast<NameExpr>(in.type.get())) type = n->name;
  std::vector<const Expr*> args;
  const BuiltinRecord* sig = findBuiltin(type, BuiltinContext::InputType);
  if (sig && call) bindArgs(*call, type, sig->params, false, "", args, diag_);
  args.resize(sig ? sig->params.size() : 4, nullptr);
  const Expr* na = nullptr;
  if (type == "id" || type == "ids") {
    const bool ids = type == "ids";
    info.kind = ids ? FeatureKind::MultiCategorical : FeatureKind::Categorical;
    const Expr* hash = ids ? args[3] : args[1];
    if (!ids) na = args[2];
    if (hash) {
      info.lookup = "hash";
      info.vocab = intConst(hash);
    } else if (auto* file = dynCast<StringExpr>(args[0])) {
      info.lookup = "vocab";
      info.vocabFile = resolveNextTo(file->loc, file->value);
      try {
        info.vocab = rt::Vocabulary(info.vocabFile).size();
      } catch (const rt::RuntimeError& e) {
        report(file->loc, e.what());
      }
    } else {
      info.vocab = intConst(args[0]);
    }
    if (ids) {
      info.len = intConst(args[1]);
      info.words = intConst(args[2]);
    }
  } else if (type == "bucketize") {
    info.kind = FeatureKind::Categorical;
    info.lookup = "bucketize";
    if (auto* list = dynCast<ListExpr>(args[0]))
      for (const auto& item : list->items) info.boundaries.push_back(numConst(item.get()));
    info.vocab = static_cast<int64_t>(info.boundaries.size()) + 1;
    na = args[1];
  } else {
    if (auto* t = dynCast<NameExpr>(args[0])) info.transform = t->name;
    na = args[1];
  }
  if (!na) return;
  info.hasNa = true;
  info.na = numConst(na);
  if (info.kind != FeatureKind::Dense && info.vocab > 0 && info.na >= double(info.vocab))
    report(na->loc, "'na' must be an id below the vocabulary of '" + in.names.front().name +
                        "' (" + std::to_string(info.vocab) + "), got " +
                        std::to_string(int64_t(info.na)));
}

} // namespace recc::buildgraph
