// Sema: resolves every name in a Program and checks what can be checked
// without shapes: placement of statements, redefinitions, unknown names (with
// "did you mean"), use before assignment, builtin arity and keywords, the kind
// of each argument (tensor, number, table, id input), constant arguments
// (widths, probabilities, vocabularies), embeddings whose vocabulary exceeds
// the table, metrics, train settings and the presence of a loss.
#include "dsl/Sema.h"

#include "dsl/Builtins.h"
#include "dsl/Suggest.h"

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>
#include <optional>

namespace recc {

using namespace ast;

namespace {

/// What an expression denotes, as far as Sema can tell. Any is a block
/// parameter (known only when the block is instantiated); Error suppresses
/// follow-on diagnostics.
enum class Ty { Error, Any, Tensor, Number, Table, Ids, Block, List, String };

struct Symbol {
  enum class Kind { DenseInput, IdInput, IdsInput, Label, Table, Block, Value, Param };
  Kind kind;
  SourceLoc loc;
  Ty valueTy = Ty::Tensor;  ///< Kind::Value: Tensor or Number
  int64_t vocab = 0;        ///< id inputs
  int64_t rows = 0;         ///< tables (0 when invalid)
  const BlockDecl* block = nullptr;
};

Ty tyOf(const Symbol& s) {
  switch (s.kind) {
  case Symbol::Kind::DenseInput:
  case Symbol::Kind::Label: return Ty::Tensor;
  case Symbol::Kind::IdInput:
  case Symbol::Kind::IdsInput: return Ty::Ids;
  case Symbol::Kind::Table: return Ty::Table;
  case Symbol::Kind::Block: return Ty::Block;
  case Symbol::Kind::Value: return s.valueTy;
  case Symbol::Kind::Param: return Ty::Any;
  }
  return Ty::Error;
}

const char* kindNoun(const Symbol& s) {
  switch (s.kind) {
  case Symbol::Kind::DenseInput: return "a dense input";
  case Symbol::Kind::IdInput: return "an id input";
  case Symbol::Kind::IdsInput: return "a multi-valued id input";
  case Symbol::Kind::Label: return "a label";
  case Symbol::Kind::Table: return "a table";
  case Symbol::Kind::Block: return "a block";
  case Symbol::Kind::Value: return s.valueTy == Ty::Number ? "a number" : "a tensor";
  case Symbol::Kind::Param: return "a block parameter";
  }
  return "a name";
}

const char* tyNoun(Ty t) {
  switch (t) {
  case Ty::Tensor: return "a tensor";
  case Ty::Number: return "a number";
  case Ty::Table: return "a table";
  case Ty::Ids: return "an id input";
  case Ty::Block: return "a block";
  case Ty::List: return "a list";
  case Ty::String: return "a string";
  default: return "a value";
  }
}

/// A name space for one model or block body.
struct Scope {
  const Scope* outer = nullptr;  ///< the model scope of a model-level block
  const BlockDecl* block = nullptr;
  std::map<std::string, Symbol> decls;       ///< inputs, labels, tables, blocks; block params
  std::map<std::string, Symbol> values;      ///< assignments seen so far
  std::map<std::string, SourceLoc> assigns;  ///< every assignment in the body
};

struct Lookup {
  enum Status { Found, NotVisible, BeforeAssign, Unknown } status = Unknown;
  const Symbol* sym = nullptr;
};

std::string fmtNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

const char* stmtNoun(const Stmt& s) {
  switch (s.kind) {
  case Stmt::Kind::Model: return "a 'model'";
  case Stmt::Kind::Input: return "an 'input' declaration";
  case Stmt::Kind::Label: return "a 'label' declaration";
  case Stmt::Kind::Table: return "a 'table' declaration";
  case Stmt::Kind::Block: return "a 'block'";
  case Stmt::Kind::Assign: return "an assignment";
  case Stmt::Kind::Return: return "'return'";
  case Stmt::Kind::Loss: return "a 'loss'";
  case Stmt::Kind::Output: return "an 'output' statement";
  case Stmt::Kind::Metric: return "a 'metric'";
  case Stmt::Kind::Train: return "a 'train' block";
  case Stmt::Kind::Stream: return "a 'stream' block";
  }
  return "a statement";
}

class Sema {
public:
  explicit Sema(DiagnosticEngine& diag) : diag_(diag) {}
  bool run(const Program& prog);

private:
  // Declarations.
  bool declare(std::map<std::string, Symbol>& into, const Ident& id, Symbol sym,
               const Scope* scope);
  std::optional<SourceLoc> previousDefinition(const std::string& name, const Scope* scope) const;
  void checkTable(const TableDecl& t, Symbol& sym);
  void checkInput(const InputDecl& in, std::map<std::string, Symbol>& into, const Scope* scope);
  void checkBlock(const BlockDecl& b, const Scope* outer);
  void checkModel(const ModelDecl& m);
  void collectAssigns(const std::vector<StmtPtr>& body, Scope& scope);

  // Statements of a model.
  void checkOutputs(const ModelDecl& m, Scope& scope, std::map<std::string, SourceLoc>& outs);
  void checkMetric(const MetricStmt& m, Scope& scope,
                   const std::map<std::string, SourceLoc>& outs);
  void checkTrain(const TrainStmt& t, const ModelDecl& m, Scope& scope);
  void checkStream(const StreamDecl& st, Scope& scope);
  Ty checkBlockCall(const CallExpr& c, const BlockDecl& b, size_t skip, Scope& scope);
  Ty checkExperts(const CallExpr& c, Scope& scope);
  bool requireIds(const Expr& e, Ty t, const std::string& what);
  void checkOptimizer(const Expr& e);

  // Expressions.
  Lookup lookup(const std::string& name, const Scope& scope) const;
  const Symbol* resolve(const std::string& name, const SourceLoc& loc, const Scope& scope);
  Ty checkExpr(const Expr& e, Scope& scope);
  Ty checkCall(const CallExpr& c, Scope& scope);
  Ty checkBuiltin(const BuiltinSig& sig, const CallExpr& c, Scope& scope);
  void checkEmbed(const CallExpr& c, const Expr& table, const Expr& ids, Scope& scope);
  const BuiltinSig* contextCall(const Expr& e, BuiltinContext ctx, const char* what,
                                std::vector<const Expr*>& args);
  std::vector<std::string> visibleNames(const Scope& scope) const;

  // Argument checks.
  bool requireTensor(const Expr& e, Ty t, const std::string& what, bool allowNumber = false);
  /// Known: `out` holds the value. Deferred: the number comes through a block
  /// parameter or a number-valued name, and BuildGraph checks it.
  enum class Const { Known, Deferred, Invalid };
  Const constant(const Expr* e, const std::string& what, double& out);
  bool constNumber(const Expr* e, const std::string& what, double& out) {
    return constant(e, what, out) == Const::Known;
  }
  bool constInt(const Expr* e, int64_t lo, int64_t hi, const std::string& what, int64_t& out);
  bool constRange(const Expr* e, double lo, double hi, bool hiOpen, const std::string& what);
  std::string describe(const Expr& e, Ty t, const Scope* scope) const;

  void error(const SourceLoc& loc, const std::string& msg) { diag_.error(loc, msg); }
  void note(const SourceLoc& loc, const std::string& msg) { diag_.note(loc, msg); }

  DiagnosticEngine& diag_;
  std::map<std::string, Symbol> globals_;
  std::map<std::string, SourceLoc> models_;  ///< every model of the file (for `init`)
  Scope* current_ = nullptr;  ///< for describe()
  bool deferNames_ = false;   ///< builtin arguments may be names of numbers
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// Where `name` is already defined in `scope` itself (a block's parameters
/// and locals may shadow names outside the block) or, for a model or the top
/// level, among the top-level tables and blocks.
std::optional<SourceLoc> Sema::previousDefinition(const std::string& name,
                                                  const Scope* scope) const {
  if (scope) {
    if (auto it = scope->decls.find(name); it != scope->decls.end()) return it->second.loc;
    if (auto it = scope->assigns.find(name); it != scope->assigns.end()) return it->second;
    if (scope->block) return std::nullopt;
  }
  if (auto it = globals_.find(name); it != globals_.end()) return it->second.loc;
  return std::nullopt;
}

/// Adds `sym` as `id.name` unless the name is a builtin or already defined
/// (see previousDefinition).
bool Sema::declare(std::map<std::string, Symbol>& into, const Ident& id, Symbol sym,
                   const Scope* scope) {
  if (findBuiltin(id.name, BuiltinContext::Expr)) {
    error(id.loc, "'" + id.name + "' is a builtin and cannot be redefined");
    return false;
  }
  std::optional<SourceLoc> prev;
  if (auto it = into.find(id.name); it != into.end()) prev = it->second.loc;
  if (!prev) prev = previousDefinition(id.name, scope);
  if (prev) {
    error(id.loc, "redefinition of '" + id.name + "'");
    note(*prev, "previous definition is here");
    return false;
  }
  sym.loc = id.loc;
  into.emplace(id.name, sym);
  return true;
}

void Sema::checkTable(const TableDecl& t, Symbol& sym) {
  int64_t rows = 0, dim = 0;
  bool ok = constInt(t.rows.get(), 1, kMaxRows, "the number of rows of table '" + t.name.name + "'",
                     rows);
  ok &= constInt(t.dim.get(), 1, kMaxWidth, "the dimension of table '" + t.name.name + "'", dim);
  sym.rows = ok ? rows : 0;
  if (!t.init) return;
  std::vector<const Expr*> args;
  const BuiltinSig* sig = contextCall(*t.init, BuiltinContext::Init, "initializer", args);
  if (sig && !args.empty() && args[0]) {
    double s;
    if (constNumber(args[0], std::string("the scale of '") + sig->name + "'", s) && !(s > 0))
      error(args[0]->loc, std::string("the scale of '") + sig->name + "' must be positive, got " +
                              fmtNumber(s));
  }
}

void Sema::checkInput(const InputDecl& in, std::map<std::string, Symbol>& into,
                      const Scope* scope) {
  std::vector<const Expr*> args;
  Symbol sym{Symbol::Kind::DenseInput, in.loc};
  if (const BuiltinSig* sig = contextCall(*in.type, BuiltinContext::InputType, "input type", args)) {
    if (sig->kind == BuiltinKind::Id || sig->kind == BuiltinKind::Ids) {
      sym.kind = sig->kind == BuiltinKind::Id ? Symbol::Kind::IdInput : Symbol::Kind::IdsInput;
      constInt(args[0], 1, kMaxRows, "the vocabulary size", sym.vocab);
      int64_t len;
      if (sig->kind == BuiltinKind::Ids) constInt(args[1], 1, 1 << 16, "'len' of 'ids'", len);
    } else if (args[0]) {
      auto* t = dynCast<NameExpr>(args[0]);
      if (!t || (t->name != "none" && t->name != "tanh_zscore"))
        error(args[0]->loc, "unknown dense transform" +
                                (t ? " '" + t->name + "'" + didYouMean(t->name, {"none", "tanh_zscore"})
                                   : std::string()) +
                                "; expected 'none' or 'tanh_zscore'");
    }
  }
  for (const auto& n : in.names) {
    if (!n.column.empty() || n.columnLoc.known()) {
      if (n.column.empty()) error(n.columnLoc, "column name must not be empty");
    }
    declare(into, n, sym, scope);
  }
}

void Sema::collectAssigns(const std::vector<StmtPtr>& body, Scope& scope) {
  for (const auto& s : body) {
    auto* a = dynCast<AssignStmt>(s.get());
    if (!a) continue;
    if (auto it = scope.assigns.find(a->name.name); it != scope.assigns.end()) {
      error(a->name.loc, "redefinition of '" + a->name.name + "'");
      note(it->second, "previous definition is here");
      continue;
    }
    std::map<std::string, Symbol> probe;  // reports clashes with declarations
    if (declare(probe, a->name, Symbol{Symbol::Kind::Value, a->loc}, &scope))
      scope.assigns.emplace(a->name.name, a->name.loc);
  }
}

void Sema::checkBlock(const BlockDecl& b, const Scope* outer) {
  Scope scope;
  scope.outer = outer;
  scope.block = &b;
  Scope* saved = current_;
  current_ = &scope;
  for (const auto& p : b.params) {
    if (scope.decls.count(p.name)) {
      error(p.loc, "duplicate parameter '" + p.name + "' in block '" + b.name.name + "'");
      continue;
    }
    if (isBlockCallKeyword(p.name)) {
      error(p.loc, "'" + p.name + "' is reserved for block calls (by, share, ema, decay); "
                   "rename the parameter");
      continue;
    }
    declare(scope.decls, p, Symbol{Symbol::Kind::Param, p.loc}, &scope);
  }
  collectAssigns(b.body, scope);
  const ReturnStmt* ret = nullptr;
  for (const auto& s : b.body) {
    if (ret) {
      error(s->loc, "unreachable statement after 'return' in block '" + b.name.name + "'");
      break;
    }
    if (auto* a = dynCast<AssignStmt>(s.get())) {
      Ty t = checkExpr(*a->value, scope);
      if (requireTensor(*a->value, t, "the value of '" + a->name.name + "'", true) &&
          scope.assigns.count(a->name.name))
        scope.values[a->name.name] = Symbol{Symbol::Kind::Value, a->name.loc,
                                            t == Ty::Number ? Ty::Number : Ty::Tensor};
      else
        scope.values[a->name.name] = Symbol{Symbol::Kind::Param, a->name.loc};  // quiet
    } else if ((ret = dynCast<ReturnStmt>(s.get()))) {
      Ty t = checkExpr(*ret->value, scope);
      requireTensor(*ret->value, t, "the value returned by block '" + b.name.name + "'", true);
    } else if (s->kind == Stmt::Kind::Block) {
      error(s->loc, "blocks cannot be nested; declare '" +
                        static_cast<const BlockDecl&>(*s).name.name +
                        "' at the top level or in a model");
    } else {
      error(s->loc, std::string(stmtNoun(*s)) + " is not allowed inside a block; a block sees "
                                                "only its parameters, tables and other blocks");
    }
  }
  if (!ret)
    error(b.name.loc, "block '" + b.name.name + "' does not return a value; end it with "
                                                "'return <expr>'");
  current_ = saved;
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

void Sema::checkModel(const ModelDecl& m) {
  Scope scope;
  Scope* saved = current_;
  current_ = &scope;
  // Declarations are visible throughout the model.
  for (const auto& s : m.body) {
    switch (s->kind) {
    case Stmt::Kind::Input:
      checkInput(static_cast<const InputDecl&>(*s), scope.decls, nullptr);
      break;
    case Stmt::Kind::Label:
      for (const auto& n : static_cast<const LabelDecl&>(*s).names) {
        if (n.columnLoc.known() && n.column.empty())
          error(n.columnLoc, "column name must not be empty");
        declare(scope.decls, n, Symbol{Symbol::Kind::Label, n.loc}, nullptr);
      }
      break;
    case Stmt::Kind::Table: {
      auto& t = static_cast<const TableDecl&>(*s);
      Symbol sym{Symbol::Kind::Table, t.name.loc};
      checkTable(t, sym);
      declare(scope.decls, t.name, sym, nullptr);
      break;
    }
    case Stmt::Kind::Block: {
      auto& b = static_cast<const BlockDecl&>(*s);
      Symbol sym{Symbol::Kind::Block, b.name.loc};
      sym.block = &b;
      declare(scope.decls, b.name, sym, nullptr);
      break;
    }
    case Stmt::Kind::Stream:
      checkStream(static_cast<const StreamDecl&>(*s), scope);
      break;
    case Stmt::Kind::Model:
      error(s->loc, "models cannot be nested; declare model '" +
                        static_cast<const ModelDecl&>(*s).name.name + "' at the top level");
      break;
    case Stmt::Kind::Return:
      error(s->loc, "'return' is only allowed inside a block");
      break;
    default: break;
    }
  }
  collectAssigns(m.body, scope);
  for (const auto& s : m.body)
    if (auto* b = dynCast<BlockDecl>(s.get())) checkBlock(*b, &scope);

  std::map<std::string, SourceLoc> losses, metrics;
  const TrainStmt* train = nullptr;
  for (const auto& s : m.body) {
    if (auto* a = dynCast<AssignStmt>(s.get())) {
      Ty t = checkExpr(*a->value, scope);
      bool ok = requireTensor(*a->value, t, "the value of '" + a->name.name + "'", true);
      if (scope.assigns.count(a->name.name))
        scope.values[a->name.name] =
            ok ? Symbol{Symbol::Kind::Value, a->name.loc, t == Ty::Number ? Ty::Number : Ty::Tensor}
               : Symbol{Symbol::Kind::Param, a->name.loc};  // unknown kind: no follow-on errors
    } else if (auto* l = dynCast<LossStmt>(s.get())) {
      if (auto [it, fresh] = losses.emplace(l->name.name, l->name.loc); !fresh) {
        error(l->name.loc, "duplicate loss '" + l->name.name + "'");
        note(it->second, "previous definition is here");
      }
      Ty t = checkExpr(*l->value, scope);
      requireTensor(*l->value, t, "loss '" + l->name.name + "'");
      double w;
      if (l->weight && constNumber(l->weight.get(), "the weight of loss '" + l->name.name + "'", w) &&
          !(w >= 0))
        error(l->weight->loc, "the weight of loss '" + l->name.name +
                                  "' must not be negative, got " + fmtNumber(w));
    } else if (auto* me = dynCast<MetricStmt>(s.get())) {
      if (auto [it, fresh] = metrics.emplace(me->name.name, me->name.loc); !fresh) {
        error(me->name.loc, "duplicate metric '" + me->name.name + "'");
        note(it->second, "previous definition is here");
      }
    } else if (auto* t = dynCast<TrainStmt>(s.get())) {
      if (train) {
        error(t->loc, "duplicate 'train' block in model '" + m.name.name + "'");
        note(train->loc, "previous 'train' block is here");
      }
      train = t;
      checkTrain(*t, m, scope);
    }
  }
  std::map<std::string, SourceLoc> outs;
  checkOutputs(m, scope, outs);
  for (const auto& s : m.body)
    if (auto* me = dynCast<MetricStmt>(s.get())) checkMetric(*me, scope, outs);
  if (losses.empty())
    error(m.name.loc, "model '" + m.name.name +
                          "' has no loss; add one, e.g. 'loss ctr = bce(p_ctr, click)'");
  current_ = saved;
}

void Sema::checkOutputs(const ModelDecl& m, Scope& scope, std::map<std::string, SourceLoc>& outs) {
  for (const auto& s : m.body) {
    auto* o = dynCast<OutputStmt>(s.get());
    if (!o) continue;
    for (const auto& n : o->names) {
      if (auto [it, fresh] = outs.emplace(n.name, n.loc); !fresh) {
        error(n.loc, "'" + n.name + "' is already an output");
        note(it->second, "previous output is here");
        continue;
      }
      const Symbol* sym = resolve(n.name, n.loc, scope);
      if (!sym || sym->kind == Symbol::Kind::Param) continue;
      if (sym->kind != Symbol::Kind::Value || sym->valueTy != Ty::Tensor) {
        error(n.loc, "output '" + n.name + "' must be a tensor computed by the model, but it is " +
                         kindNoun(*sym));
        note(sym->loc, "'" + n.name + "' declared here");
      }
    }
  }
}

void Sema::checkMetric(const MetricStmt& m, Scope& scope,
                       const std::map<std::string, SourceLoc>& outs) {
  std::vector<const Expr*> args;
  auto* call = dynCast<CallExpr>(m.value.get());
  if (!call) {
    error(m.value->loc, "metric '" + m.name.name + "' must be a call such as auc(score, label)");
    return;
  }
  const BuiltinSig* sig = contextCall(*call, BuiltinContext::Metric, "metric", args);
  if (!sig) return;
  auto requireName = [&](const Expr* e, const char* what) -> const NameExpr* {
    auto* n = dynCast<NameExpr>(e);
    if (!n) error(e->loc, std::string("the ") + what + " of metric '" + m.name.name + "' must be a name");
    return n;
  };
  auto requireLabel = [&](const std::string& name, const SourceLoc& loc) {
    const Symbol* sym = resolve(name, loc, scope);
    if (sym && sym->kind != Symbol::Kind::Label) {
      error(loc, "'" + name + "' is not a label; metric '" + m.name.name +
                     "' needs a label here, but it is " + kindNoun(*sym));
      note(sym->loc, "'" + name + "' declared here");
    }
  };
  if (auto* score = requireName(args[0], "score")) {
    if (!outs.count(score->name)) {
      const Symbol* sym = resolve(score->name, score->loc, scope);
      if (sym) {
        error(score->loc, "metric '" + m.name.name + "' scores '" + score->name +
                              "', which is not a model output; list it in an 'output' statement");
        note(sym->loc, "'" + score->name + "' declared here");
      }
    }
  }
  if (auto* label = requireName(args[1], "label")) requireLabel(label->name, label->loc);
  if (sig->kind == BuiltinKind::Gauc) {
    if (auto* by = requireName(args[2], "grouping column ('by')")) {
      const Symbol* sym = resolve(by->name, by->loc, scope);
      if (sym && sym->kind != Symbol::Kind::IdInput && sym->kind != Symbol::Kind::DenseInput) {
        error(by->loc, "'by' of 'gauc' must name an input column, but '" + by->name + "' is " +
                           kindNoun(*sym));
        note(sym->loc, "'" + by->name + "' declared here");
      }
    }
  }
  if (!m.where.name.empty()) requireLabel(m.where.name, m.where.loc);
}

void Sema::checkOptimizer(const Expr& e) {
  std::vector<const Expr*> args;
  const BuiltinSig* sig = contextCall(e, BuiltinContext::Optimizer, "optimizer", args);
  if (!sig) return;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i]) continue;
    std::string what = std::string("'") + sig->params[i].name + "' of '" + sig->name + "'";
    std::string p = sig->params[i].name;
    if (p == "beta1" || p == "beta2")
      constRange(args[i], 0, 1, true, what);
    else if (p == "initial_accumulator")
      constRange(args[i], 0, INFINITY, false, what);
    else if (double v; constNumber(args[i], what, v) && !(v > 0))
      error(args[i]->loc, what + " must be positive, got " + fmtNumber(v));
  }
}

/// `stream NAME { input ... label ... }`: its declarations belong to the model.
void Sema::checkStream(const StreamDecl& st, Scope& scope) {
  for (const auto& s : st.body) {
    if (auto* in = dynCast<InputDecl>(s.get())) {
      checkInput(*in, scope.decls, nullptr);
    } else if (auto* l = dynCast<LabelDecl>(s.get())) {
      for (const auto& n : l->names)
        declare(scope.decls, n, Symbol{Symbol::Kind::Label, n.loc}, nullptr);
    } else {
      error(s->loc, std::string(stmtNoun(*s)) + " is not allowed in stream '" + st.name.name +
                        "'; a stream holds only 'input' and 'label' declarations");
    }
  }
}

void Sema::checkTrain(const TrainStmt& t, const ModelDecl& m, Scope& scope) {
  static const std::vector<std::string> kSettings = {"optimizer", "batch", "epochs", "seed",
                                                     "init", "freeze"};
  std::map<std::string, SourceLoc> seen;
  for (const auto& s : t.settings) {
    const std::string& name = s.name.name;
    if (auto [it, fresh] = seen.emplace(name, s.name.loc); !fresh) {
      error(s.name.loc, "duplicate setting '" + name + "'");
      note(it->second, "previous setting is here");
      continue;
    }
    int64_t v;
    if (name == "optimizer")
      checkOptimizer(*s.value);
    else if (name == "batch")
      constInt(s.value.get(), 1, kMaxWidth, "'batch'", v);
    else if (name == "epochs")
      constInt(s.value.get(), 1, 1000000, "'epochs'", v);
    else if (name == "seed")
      constInt(s.value.get(), 0, kMaxRows, "'seed'", v);
    else if (name == "init") {
      // Stages: start from the trained parameters of another model of the file.
      auto* n = dynCast<NameExpr>(s.value.get());
      std::vector<std::string> others;
      for (const auto& [mn, loc] : models_)
        if (mn != m.name.name) others.push_back(mn);
      if (!n || !models_.count(n->name) || n->name == m.name.name)
        error(s.value->loc, "'init' must name another model of this file, whose trained "
                            "parameters this one starts from" +
                                (n && n->name != m.name.name ? didYouMean(n->name, others)
                                                             : std::string()));
    } else if (name == "freeze") {
      // Parameter groups held fixed: tables, or values whose parameters are frozen.
      auto* list = dynCast<ListExpr>(s.value.get());
      if (!list) {
        error(s.value->loc, "'freeze' must be a list of tables or values, e.g. "
                            "freeze = [item_emb, tower]");
        continue;
      }
      for (const auto& item : list->items) {
        auto* n = dynCast<NameExpr>(item.get());
        Lookup l = n ? lookup(n->name, scope) : Lookup{};
        bool ok = l.sym && (l.sym->kind == Symbol::Kind::Table ||
                            l.sym->kind == Symbol::Kind::Value);
        if (!ok && n && scope.assigns.count(n->name)) ok = true;
        if (!ok)
          error(item->loc, "'freeze' lists tables and values whose parameters are frozen, but " +
                               (n ? (l.sym ? "'" + n->name + "' is " + kindNoun(*l.sym)
                                           : "'" + n->name + "' is not declared in this model" +
                                                 didYouMean(n->name, visibleNames(scope)))
                                  : std::string("this is not a name")));
      }
    } else
      error(s.name.loc, "unknown train setting '" + name + "'" + didYouMean(name, kSettings) +
                            " (settings: optimizer, batch, epochs, seed, init, freeze)");
  }
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

Lookup Sema::lookup(const std::string& name, const Scope& scope) const {
  Lookup r;
  auto find = [&](const std::map<std::string, Symbol>& m) -> const Symbol* {
    auto it = m.find(name);
    return it == m.end() ? nullptr : &it->second;
  };
  if ((r.sym = find(scope.values)) || (r.sym = find(scope.decls))) {
    r.status = Lookup::Found;
    return r;
  }
  if (scope.assigns.count(name)) {
    r.status = Lookup::BeforeAssign;
    return r;
  }
  // A block sees the tables and blocks around it, not the model's data.
  for (const Scope* s = scope.outer; s; s = s->outer) {
    if ((r.sym = find(s->decls)) || (r.sym = find(s->values))) {
      bool visible = r.sym->kind == Symbol::Kind::Table || r.sym->kind == Symbol::Kind::Block;
      r.status = visible ? Lookup::Found : Lookup::NotVisible;
      return r;
    }
    if (s->assigns.count(name)) {
      r.status = Lookup::NotVisible;
      return r;
    }
  }
  if ((r.sym = find(globals_))) r.status = Lookup::Found;
  return r;
}

std::vector<std::string> Sema::visibleNames(const Scope& scope) const {
  std::vector<std::string> names;
  for (const auto& [n, s] : scope.decls) names.push_back(n);
  for (const auto& [n, l] : scope.assigns) names.push_back(n);
  for (const Scope* s = scope.outer; s; s = s->outer)
    for (const auto& [n, sym] : s->decls)
      if (sym.kind == Symbol::Kind::Table || sym.kind == Symbol::Kind::Block) names.push_back(n);
  for (const auto& [n, s] : globals_) names.push_back(n);
  return names;
}

/// Resolves a name at a use, reporting unknown, invisible and not-yet-assigned
/// names. Returns null after reporting.
const Symbol* Sema::resolve(const std::string& name, const SourceLoc& loc, const Scope& scope) {
  Lookup r = lookup(name, scope);
  switch (r.status) {
  case Lookup::Found: return r.sym;
  case Lookup::BeforeAssign:
    error(loc, "'" + name + "' is used before it is assigned");
    note(scope.assigns.at(name), "'" + name + "' is assigned here");
    return nullptr;
  case Lookup::NotVisible:
    error(loc, "'" + name + "' is not visible inside block '" + scope.block->name.name +
                   "'; pass it as a parameter");
    if (r.sym) note(r.sym->loc, "'" + name + "' declared here");
    return nullptr;
  case Lookup::Unknown: break;
  }
  if (findAnyBuiltin(name)) {
    error(loc, "'" + name + "' is a builtin; call it with arguments, e.g. " +
                   findAnyBuiltin(name)->usage);
    return nullptr;
  }
  error(loc, "unknown name '" + name + "'" + didYouMean(name, visibleNames(scope)));
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

Ty Sema::checkExpr(const Expr& e, Scope& scope) {
  switch (e.kind) {
  case Expr::Kind::Number: return Ty::Number;
  case Expr::Kind::String:
    error(e.loc, "a string is only allowed as a column name, after 'from'");
    return Ty::Error;
  case Expr::Kind::List:
    error(e.loc, "a list is only allowed as the layer widths of 'mlp' or the shape of 'param'");
    return Ty::Error;
  case Expr::Kind::Name: {
    auto& n = static_cast<const NameExpr&>(e);
    const Symbol* sym = resolve(n.name, n.loc, scope);
    if (!sym) return Ty::Error;
    if (sym->kind == Symbol::Kind::Block) {
      error(n.loc, "'" + n.name + "' is a block; call it: " + n.name + "(...)");
      return Ty::Error;
    }
    return tyOf(*sym);
  }
  case Expr::Kind::Neg: {
    auto& ng = static_cast<const NegExpr&>(e);
    Ty t = checkExpr(*ng.operand, scope);
    if (!requireTensor(*ng.operand, t, "the operand of '-'", true)) return Ty::Error;
    return t == Ty::Number ? Ty::Number : Ty::Tensor;
  }
  case Expr::Kind::Binary: {
    auto& b = static_cast<const BinaryExpr&>(e);
    Ty l = checkExpr(*b.lhs, scope), r = checkExpr(*b.rhs, scope);
    std::string what = std::string("operand of '") + b.op + "'";
    bool ok = requireTensor(*b.lhs, l, "the left " + what, true);
    ok &= requireTensor(*b.rhs, r, "the right " + what, true);
    double v;
    if (b.op == '/' && constantValue(*b.rhs, v) && v == 0) {
      error(b.loc, "division by zero");
      return Ty::Error;
    }
    if (!ok) return Ty::Error;
    return l == Ty::Number && r == Ty::Number ? Ty::Number : Ty::Tensor;
  }
  case Expr::Kind::Call: return checkCall(static_cast<const CallExpr&>(e), scope);
  }
  return Ty::Error;
}

Ty Sema::checkCall(const CallExpr& c, Scope& scope) {
  Lookup r = lookup(c.callee, scope);
  if (r.status == Lookup::Found && r.sym->kind == Symbol::Kind::Block) {
    return checkBlockCall(c, *r.sym->block, 0, scope);
  }
  if (c.callee == "experts" && r.status == Lookup::Unknown) return checkExperts(c, scope);
  if (r.status != Lookup::Unknown) {
    const Symbol* sym = resolve(c.callee, c.loc, scope);
    if (sym)
      error(c.loc, "'" + c.callee + "' is " + kindNoun(*sym) + ", not a block or function");
    return Ty::Error;
  }
  if (const BuiltinSig* sig = findBuiltin(c.callee, BuiltinContext::Expr))
    return checkBuiltin(*sig, c, scope);
  if (const BuiltinSig* other = findAnyBuiltin(c.callee)) {
    static const char* kWhere[] = {"", "in a 'metric' statement", "as 'optimizer' in 'train { ... }'",
                                   "after 'init' in a table declaration", "in an 'input' declaration"};
    error(c.loc, "'" + c.callee + "' is " + contextNoun(other->context) + "; it can only be used " +
                     kWhere[(int)other->context]);
    return Ty::Error;
  }
  std::vector<std::string> names = builtinNames(BuiltinContext::Expr);
  for (const auto& n : visibleNames(scope))
    if (auto l = lookup(n, scope); l.sym && l.sym->kind == Symbol::Kind::Block) names.push_back(n);
  error(c.loc, "unknown function '" + c.callee + "'" + didYouMean(c.callee, names));
  return Ty::Error;
}

Ty Sema::checkBuiltin(const BuiltinSig& sig, const CallExpr& c, Scope& scope) {
  std::vector<const Expr*> args;
  std::string desc = "'";  // built by appending: GCC 12 -Wrestrict misfires on "'" + string
  desc.append(sig.name).append("'");
  std::vector<const Expr*> kw;
  if (!bindArgs(c, desc, sig.params, sig.variadic, sig.usage, args, diag_, 0, &kw)) return Ty::Error;
  auto argWhat = [&](size_t i) {
    return sig.variadic ? "argument " + std::to_string(i + 1) + " of '" + sig.name + "'"
                        : "argument '" + std::string(sig.params[i].name) + "' of '" + sig.name + "'";
  };
  auto tensorArg = [&](size_t i, bool allowNumber = false) {
    Ty t = checkExpr(*args[i], scope);
    return requireTensor(*args[i], t, argWhat(i), allowNumber);
  };
  bool ok = true;
  int64_t n;
  struct Defer {  // constant arguments of layers may come through block parameters
    bool& flag, saved;
    explicit Defer(bool& f) : flag(f), saved(f) { flag = true; }
    ~Defer() { flag = saved; }
  } defer(deferNames_);
  switch (sig.kind) {
  case BuiltinKind::Embed: checkEmbed(c, *args[0], *args[1], scope); break;
  case BuiltinKind::Concat:
    for (size_t i = 0; i < args.size(); ++i) ok &= tensorArg(i);
    if (!kw.empty() && kw[0]) ok &= constInt(kw[0], -8, 8, "'axis' of 'concat'", n);
    break;
  case BuiltinKind::Dense:
    ok &= tensorArg(0);
    ok &= constInt(args[1], 1, kMaxWidth, "'units' of 'dense'", n);
    if (args[2]) ok &= requireIds(*args[2], checkExpr(*args[2], scope), argWhat(2));
    break;
  case BuiltinKind::Mlp: {
    ok &= tensorArg(0);
    if (args[4]) ok &= requireIds(*args[4], checkExpr(*args[4], scope), argWhat(4));
    auto* widths = dynCast<ListExpr>(args[1]);
    if (!widths) {
      error(args[1]->loc, "'widths' of 'mlp' must be a list of layer widths, e.g. [512, 256]");
      ok = false;
    } else if (widths->items.empty()) {
      error(widths->loc, "'mlp' needs at least one layer width");
      ok = false;
    } else {
      for (const auto& w : widths->items) ok &= constInt(w.get(), 1, kMaxWidth, "a layer width", n);
    }
    if (args[2]) ok &= constRange(args[2], 0, 1, true, "'dropout' of 'mlp'");
    if (args[3]) {
      auto* act = dynCast<NameExpr>(args[3]);
      static const std::vector<std::string> kActs = {"relu", "tanh", "sigmoid", "linear"};
      if (!act || std::find(kActs.begin(), kActs.end(), act->name) == kActs.end()) {
        error(args[3]->loc, "unknown activation" +
                                (act ? " '" + act->name + "'" + didYouMean(act->name, kActs)
                                     : std::string()) +
                                "; expected relu, tanh, sigmoid or linear");
        ok = false;
      }
    }
    break;
  }
  case BuiltinKind::Relu:
  case BuiltinKind::Sigmoid:
  case BuiltinKind::Tanh:
  case BuiltinKind::Exp:
  case BuiltinKind::Log:
  case BuiltinKind::Softplus:
  case BuiltinKind::Step: ok &= tensorArg(0); break;
  case BuiltinKind::Clamp: {
    ok &= tensorArg(0);
    double lo = 0, hi = 0;
    Const cl = constant(args[1], "'lo' of 'clamp'", lo), ch = constant(args[2], "'hi' of 'clamp'", hi);
    if (cl == Const::Known && ch == Const::Known && lo > hi) {
      error(c.loc, "'clamp' bounds are reversed: lo " + fmtNumber(lo) + " > hi " + fmtNumber(hi));
      ok = false;
    }
    ok &= cl != Const::Invalid && ch != Const::Invalid;
    break;
  }
  case BuiltinKind::Dropout:
    ok &= tensorArg(0);
    ok &= constRange(args[1], 0, 1, true, "the probability of 'dropout'");
    break;
  case BuiltinKind::Bce:
  case BuiltinKind::BceLogits:
  case BuiltinKind::Mse:
    ok &= tensorArg(0);
    ok &= tensorArg(1);
    if (args[2]) ok &= tensorArg(2, true);
    if (args[3]) ok &= tensorArg(3);
    break;
  case BuiltinKind::Mean:
  case BuiltinKind::Sum:
    ok &= tensorArg(0);
    if (args[1]) ok &= constInt(args[1], -8, 8, "'axis'", n);
    if (args[2]) ok &= tensorArg(2);
    break;
  case BuiltinKind::Mask:
  case BuiltinKind::OneHot:
    ok &= requireIds(*args[0], checkExpr(*args[0], scope), argWhat(0));
    break;
  case BuiltinKind::MaskedMean:
  case BuiltinKind::MaskedSum:
  case BuiltinKind::Dot:
  case BuiltinKind::Cosine:
  case BuiltinKind::MaskedSoftmax:
  case BuiltinKind::WeightedSum:
  case BuiltinKind::RepeatLike:
  case BuiltinKind::TopK:
    ok &= tensorArg(0);
    ok &= tensorArg(1);
    if (sig.kind == BuiltinKind::TopK) ok &= constInt(args[2], 1, 1 << 20, "'k' of 'top_k'", n);
    break;
  case BuiltinKind::Stack:
    for (size_t i = 0; i < args.size(); ++i) ok &= tensorArg(i);
    break;
  case BuiltinKind::Squeeze:
  case BuiltinKind::MergeHeads:
  case BuiltinKind::Softmax:
  case BuiltinKind::StopGradient: ok &= tensorArg(0); break;
  case BuiltinKind::Take:
    ok &= tensorArg(0);
    ok &= constInt(args[1], 0, kMaxWidth, "'index' of 'take'", n);
    break;
  case BuiltinKind::MatMul:
    ok &= tensorArg(0);
    ok &= tensorArg(1);
    if (args[2]) ok &= constInt(args[2], 0, 1, "'transpose_b' of 'matmul'", n);
    break;
  case BuiltinKind::SplitHeads:
    ok &= tensorArg(0);
    ok &= constInt(args[1], 1, 4096, "'heads' of 'split_heads'", n);
    break;
  case BuiltinKind::CausalMask:
    ok &= constInt(args[0], 1, kMaxWidth, "'size' of 'causal_mask'", n);
    break;
  case BuiltinKind::L2Normalize:
  case BuiltinKind::LayerNorm:
  case BuiltinKind::BatchNorm: {
    ok &= tensorArg(0);
    const Expr* eps = sig.kind == BuiltinKind::BatchNorm ? args[2] : args[1];
    double v;
    std::string what = std::string("'eps' of '") + sig.name + "'";
    if (eps && constNumber(eps, what, v) && !(v > 0)) {
      error(eps->loc, what + " must be positive, got " + fmtNumber(v));
      ok = false;
    }
    if (sig.kind == BuiltinKind::BatchNorm && args[1])
      ok &= constRange(args[1], 0, 1, true, "'momentum' of 'batch_norm'");
    break;
  }
  case BuiltinKind::Param: {
    auto* shape = dynCast<ListExpr>(args[0]);
    if (!shape || shape->items.empty()) {
      error(args[0]->loc, "'shape' of 'param' must be a list of extents, e.g. [10, 128]");
      ok = false;
    } else {
      for (const auto& d : shape->items)
        ok &= constInt(d.get(), 1, kMaxWidth, "an extent of 'param'", n);
    }
    std::vector<const Expr*> initArgs;
    if (args[1])
      ok &= contextCall(*args[1], BuiltinContext::Init, "initializer", initArgs) != nullptr;
    if (args[2]) ok &= requireIds(*args[2], checkExpr(*args[2], scope), argWhat(2));
    break;
  }
  case BuiltinKind::GradReverse: {
    ok &= tensorArg(0);
    ok &= constRange(args[1], 0, INFINITY, false, "'lambda' of 'grad_reverse'");
    if (args[2]) {
      auto* s = dynCast<NameExpr>(args[2]);
      if (!s || (s->name != "constant" && s->name != "dann")) {
        error(args[2]->loc, "unknown schedule" +
                                (s ? " '" + s->name + "'" + didYouMean(s->name, {"constant", "dann"})
                                   : std::string()) +
                                "; expected 'constant' or 'dann'");
        ok = false;
      }
    }
    break;
  }
  case BuiltinKind::TrainOnly:
    ok &= tensorArg(0);
    ok &= tensorArg(1, true);
    break;
  case BuiltinKind::InfoNce: {
    ok &= tensorArg(0);
    if (args[1]) ok &= constInt(args[1], 0, kMaxWidth, "'positive' of 'info_nce'", n);
    double v;
    if (args[2] && constNumber(args[2], "'temperature' of 'info_nce'", v) && !(v > 0)) {
      error(args[2]->loc, "'temperature' of 'info_nce' must be positive, got " + fmtNumber(v));
      ok = false;
    }
    break;
  }
  default: break;
  }
  return ok ? Ty::Tensor : Ty::Error;
}

/// A block call (arguments from `skip` on), with the block-call keywords.
Ty Sema::checkBlockCall(const CallExpr& c, const BlockDecl& b, size_t skip, Scope& scope) {
  if (scope.block == &b) {
    error(c.loc, "block '" + b.name.name + "' calls itself; recursion is not allowed");
    return Ty::Error;
  }
  std::vector<std::string> params;
  for (const auto& p : b.params) params.push_back(p.name);
  std::vector<const Expr*> args, mods;
  if (!bindBlockArgs(c, b.name.name, params, args, mods, diag_, skip)) {
    note(b.name.loc, "block '" + b.name.name + "' declared here");
    return Ty::Error;
  }
  bool ok = true;
  for (const Expr* a : args) ok &= checkExpr(*a, scope) != Ty::Error;
  const Expr *by = mods[0], *share = mods[1], *ema = mods[2], *decay = mods[3];
  if (by) ok &= requireIds(*by, checkExpr(*by, scope), "'by' of a block call");
  for (const Expr* inst : {share, ema}) {
    if (!inst) continue;
    const char* kw = inst == share ? "share" : "ema";
    auto* n = dynCast<NameExpr>(inst);
    const Symbol* sym = n ? resolve(n->name, n->loc, scope) : nullptr;
    if (n && !sym) {
      ok = false;
    } else if (!sym || (sym->kind != Symbol::Kind::Value && sym->kind != Symbol::Kind::Param)) {
      error(inst->loc, std::string("'") + kw + "' must name a value computed by an earlier "
                       "block call, whose parameters this call " +
                       (inst == share ? "reuses" : "shadows") + ", e.g. " + kw + " = z_s");
      ok = false;
    }
  }
  if (share && ema) {
    error(ema->loc, "'share' and 'ema' cannot be combined: a call either reuses parameters or "
                    "shadows them");
    ok = false;
  }
  if (decay && !ema) {
    error(decay->loc, "'decay' is only meaningful with 'ema'");
    ok = false;
  } else if (decay) {
    ok &= constRange(decay, 0, 1, true, "'decay' of 'ema'");
  }
  return ok ? Ty::Tensor : Ty::Error;
}

/// experts(block, n, args...): n calls of `block`, stacked along axis 1.
Ty Sema::checkExperts(const CallExpr& c, Scope& scope) {
  const char* usage = " (usage: experts(block, n, args..., by = ids))";
  if (c.args.size() < 2 || !c.args[0].keyword.empty() || !c.args[1].keyword.empty()) {
    error(c.loc, std::string("'experts' needs a block and a count first") + usage);
    return Ty::Error;
  }
  auto* bn = dynCast<NameExpr>(c.args[0].value.get());
  Lookup l = bn ? lookup(bn->name, scope) : Lookup{};
  if (!bn || !l.sym || l.sym->kind != Symbol::Kind::Block) {
    if (bn && !l.sym && l.status == Lookup::Unknown)
      error(bn->loc, "unknown block '" + bn->name + "'" + didYouMean(bn->name, visibleNames(scope)));
    else
      error(c.args[0].value->loc, std::string("the first argument of 'experts' must be a block") +
                                      usage);
    return Ty::Error;
  }
  int64_t n;
  bool ok = constInt(c.args[1].value.get(), 1, 4096, "the number of experts", n);
  Ty t = checkBlockCall(c, *l.sym->block, 2, scope);
  return ok && t != Ty::Error ? Ty::Tensor : Ty::Error;
}

bool Sema::requireIds(const Expr& e, Ty t, const std::string& what) {
  if (t == Ty::Error) return false;
  if (t == Ty::Ids || t == Ty::Any) return true;
  error(e.loc, what + " must be an id input, but " + describe(e, t, current_));
  return false;
}

void Sema::checkEmbed(const CallExpr& c, const Expr& table, const Expr& ids, Scope& scope) {
  Ty tt = checkExpr(table, scope), ti = checkExpr(ids, scope);
  if (tt != Ty::Table && tt != Ty::Any && tt != Ty::Error)
    error(table.loc, "argument 'table' of 'embed' must be a table, but " + describe(table, tt, &scope));
  if (ti != Ty::Ids && ti != Ty::Any && ti != Ty::Error) {
    error(ids.loc, "argument 'ids' of 'embed' must be an id input, but " + describe(ids, ti, &scope));
    if (auto* n = dynCast<NameExpr>(&ids))
      if (auto l = lookup(n->name, scope); l.sym) note(l.sym->loc, "'" + n->name + "' declared here");
  }
  auto* tn = dynCast<NameExpr>(&table);
  auto* in = dynCast<NameExpr>(&ids);
  if (tt != Ty::Table || ti != Ty::Ids || !tn || !in) return;
  const Symbol* ts = lookup(tn->name, scope).sym;
  const Symbol* is = lookup(in->name, scope).sym;
  if (ts && is && ts->rows > 0 && is->vocab > ts->rows) {
    error(c.loc, "vocabulary of '" + in->name + "' (" + std::to_string(is->vocab) +
                     " ids) is larger than table '" + tn->name + "' (" + std::to_string(ts->rows) +
                     " rows)");
    note(ts->loc, "table '" + tn->name + "' declared here");
    note(is->loc, "'" + in->name + "' declared here");
  }
}

/// Resolves an initializer, optimizer, metric or input type written as a bare
/// name or a call, and binds its arguments.
const BuiltinSig* Sema::contextCall(const Expr& e, BuiltinContext ctx, const char* what,
                                    std::vector<const Expr*>& args) {
  std::string name;
  if (auto* n = dynCast<NameExpr>(&e)) name = n->name;
  else if (auto* c = dynCast<CallExpr>(&e)) name = c->callee;
  else {
    error(e.loc, std::string("expected ") + contextNoun(ctx) + ", e.g. " +
                     builtinNames(ctx).front() + "(...)");
    return nullptr;
  }
  const BuiltinSig* sig = findBuiltin(name, ctx);
  if (!sig) {
    std::vector<std::string> names = builtinNames(ctx);
    std::string all;
    for (size_t i = 0; i < names.size(); ++i) all += (i ? ", " : "") + names[i];
    error(e.loc, std::string("unknown ") + what + " '" + name + "'" + didYouMean(name, names) +
                     " (expected one of: " + all + ")");
    return nullptr;
  }
  if (auto* c = dynCast<CallExpr>(&e)) {
    if (!bindArgs(*c, "'" + name + "'", sig->params, false, sig->usage, args, diag_)) return nullptr;
    return sig;
  }
  args.assign(sig->params.size(), nullptr);
  for (const auto& p : sig->params) {
    if (!p.required) continue;
    error(e.loc, "'" + name + "' needs argument '" + p.name + "' (usage: " + sig->usage + ")");
    return nullptr;
  }
  return sig;
}

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

std::string Sema::describe(const Expr& e, Ty t, const Scope* scope) const {
  if (auto* n = dynCast<NameExpr>(&e)) {
    Lookup l = scope ? lookup(n->name, *scope) : Lookup{};
    std::string noun = l.sym ? kindNoun(*l.sym) : tyNoun(t);
    std::string s = "'" + n->name + "' is " + noun;
    if (t == Ty::Table) s += "; look rows up with embed(" + n->name + ", <id input>)";
    if (t == Ty::Ids) s += "; embed it first: embed(<table>, " + n->name + ")";
    return s;
  }
  return std::string("it is ") + tyNoun(t);
}

bool Sema::requireTensor(const Expr& e, Ty t, const std::string& what, bool allowNumber) {
  if (t == Ty::Error) return false;
  if (t == Ty::Tensor || t == Ty::Any || (allowNumber && t == Ty::Number)) return true;
  error(e.loc, what + " must be a tensor" + (allowNumber ? " or a number" : "") + ", but " +
                   describe(e, t, current_));
  return false;
}

Sema::Const Sema::constant(const Expr* e, const std::string& what, double& out) {
  if (constantValue(*e, out)) return Const::Known;
  if (deferNames_ && current_) {
    bool saved = deferNames_;
    deferNames_ = false;
    Ty t = checkExpr(*e, *current_);
    deferNames_ = saved;
    if (t == Ty::Number || t == Ty::Any) return Const::Deferred;
    if (t == Ty::Error) return Const::Invalid;
    error(e->loc, what + " must be a constant number, but " + describe(*e, t, current_));
    return Const::Invalid;
  }
  error(e->loc, what + " must be a constant number");
  return Const::Invalid;
}

bool Sema::constInt(const Expr* e, int64_t lo, int64_t hi, const std::string& what, int64_t& out) {
  double v;
  if (Const c = constant(e, what, v); c != Const::Known) return c == Const::Deferred;
  if (v == std::floor(v) && v >= (double)lo && v <= (double)hi) {
    out = (int64_t)v;
    return true;
  }
  std::string kind = lo == 1 ? "a positive integer" : lo == 0 ? "a non-negative integer" : "an integer";
  std::string range = lo >= 0 ? " no larger than " + std::to_string(hi)
                              : " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  auto* num = dynCast<NumberExpr>(e);
  error(e->loc, what + " must be " + kind + range + ", got " + (num ? num->text : fmtNumber(v)));
  return false;
}

bool Sema::constRange(const Expr* e, double lo, double hi, bool hiOpen, const std::string& what) {
  double v;
  if (Const c = constant(e, what, v); c != Const::Known) return c == Const::Deferred;
  if (v >= lo && (hiOpen ? v < hi : v <= hi)) return true;
  error(e->loc, what + " must be in [" + fmtNumber(lo) + ", " + fmtNumber(hi) + (hiOpen ? ")" : "]") +
                    ", got " + fmtNumber(v));
  return false;
}

//===----------------------------------------------------------------------===//
// Program
//===----------------------------------------------------------------------===//

bool Sema::run(const Program& prog) {
  int before = diag_.errorCount();
  std::map<std::string, SourceLoc> models;
  for (const auto& d : prog.decls) {
    if (auto* t = dynCast<TableDecl>(d.get())) {
      Symbol sym{Symbol::Kind::Table, t->name.loc};
      checkTable(*t, sym);
      declare(globals_, t->name, sym, nullptr);
    } else if (auto* b = dynCast<BlockDecl>(d.get())) {
      Symbol sym{Symbol::Kind::Block, b->name.loc};
      sym.block = b;
      declare(globals_, b->name, sym, nullptr);
    } else if (auto* m = dynCast<ModelDecl>(d.get())) {
      models_.emplace(m->name.name, m->name.loc);
      if (auto [it, fresh] = models.emplace(m->name.name, m->name.loc); !fresh) {
        error(m->name.loc, "redefinition of model '" + m->name.name + "'");
        note(it->second, "previous definition is here");
      }
    } else {
      error(d->loc, std::string(stmtNoun(*d)) +
                        " must be inside a model; only models, blocks and tables may appear at "
                        "the top level");
    }
  }
  for (const auto& d : prog.decls)
    if (auto* b = dynCast<BlockDecl>(d.get())) checkBlock(*b, nullptr);
  for (const auto& d : prog.decls)
    if (auto* m = dynCast<ModelDecl>(d.get())) checkModel(*m);
  return diag_.errorCount() == before;
}

} // namespace

bool checkProgram(const Program& prog, DiagnosticEngine& diag) { return Sema(diag).run(prog); }

} // namespace recc
