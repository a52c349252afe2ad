// Sema: resolves every name in a Program and checks what can be checked
// without shapes: placement of statements, redefinitions, unknown names (with
// "did you mean"), use before assignment, builtin arity and keywords, the kind
// of each argument (tensor, number, table, id input), constant arguments
// (widths, probabilities, vocabularies), embeddings whose vocabulary exceeds
// the table, metrics, train settings and the presence of a loss.
#include "dsl/Columns.h"
#include "dsl/SemaChecker.h"
#include "runtime/CheckedMath.h"

#include <algorithm>
#include <cmath>

namespace recc::sema {


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
  // rows x dim floats must have a byte size that 64-bit arithmetic can hold,
  // or every later count (summary, memory check, checkpoint offsets) wraps.
  auto params = rt::checkedMul(rows, dim);
  if (ok && (!params || !rt::checkedMul(*params, 4 * 4))) {
    error(t.name.loc, "table '" + t.name.name + "' [" + std::to_string(rows) + ", " +
                          std::to_string(dim) + "] is too large: its size in bytes, with "
                          "optimizer state, overflows 64 bits");
    ok = false;
  }
  sym.rows = ok ? rows : 0;
  if (!t.init) return;
  std::vector<const Expr*> args;
  const BuiltinRecord* sig = contextCall(*t.init, BuiltinContext::Init, "initializer", args);
  if (isBuiltin(sig, "identity"))
    error(t.init->loc, "'identity' initializes square parameters, e.g. param([3, 3], init = "
                       "identity); initialize table '" + t.name.name +
                           "' with uniform, normal, zeros or ones");
  if (sig && !args.empty() && args[0]) {
    double s;
    if (constNumber(args[0], std::string("the scale of '") + sig->name + "'", s) && !(s > 0))
      error(args[0]->loc, std::string("the scale of '") + sig->name + "' must be positive, got " +
                              fmtNumber(s));
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
  const ColumnsStmt* columns = nullptr;
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
    case Stmt::Kind::Columns:
      if (columns) {
        error(s->loc, "duplicate 'columns' list in model '" + m.name.name + "'");
        note(columns->loc, "previous 'columns' list is here");
      }
      columns = static_cast<const ColumnsStmt*>(s.get());
      expandColumns(*columns, &diag_);
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
  const BuiltinRecord* sig = contextCall(*call, BuiltinContext::Metric, "metric", args);
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
  bool ranking = isRankingMetric(*sig);
  if (!ranking) {
    if (auto* label = requireName(args[1], "label")) requireLabel(label->name, label->loc);
  } else if (auto* target = requireName(args[1], "target")) {
    // The relevant item is an id on each row, compared with the retrieved ids;
    // a 0/1 label says whether a row is relevant, which is what `where` is for.
    const Symbol* sym = resolve(target->name, target->loc, scope);
    if (sym && sym->kind != Symbol::Kind::IdInput) {
      error(target->loc, "the target of metric '" + m.name.name + "' must be the id input of "
                         "the relevant item (id(V)), compared with the ids that '" + sig->name +
                         "' finds in the top k, but '" + target->name + "' is " + kindNoun(*sym) +
                         (sym->kind == Symbol::Kind::Label
                              ? "; keep the relevant rows with 'where " + target->name + "'"
                              : std::string()));
      note(sym->loc, "'" + target->name + "' declared here");
    }
  }
  int64_t k;
  if (ranking && args[2]) constInt(args[2], 1, 1 << 20, std::string("'k' of '") + sig->name + "'", k);
  const Expr* byArg = ranking ? args[3] : args[2];
  if (isBuiltin(sig, "gauc") && args[3]) checkGaucReduce(*args[3]);
  if (byArg) {
    if (auto* by = requireName(byArg, "grouping column ('by')")) {
      const Symbol* sym = resolve(by->name, by->loc, scope);
      if (sym && sym->kind != Symbol::Kind::IdInput && sym->kind != Symbol::Kind::DenseInput) {
        error(by->loc, std::string("'by' of '") + sig->name + "' must name an input column, but '" +
                           by->name + "' is " + kindNoun(*sym));
        note(sym->loc, "'" + by->name + "' declared here");
      }
    }
  }
  if (!m.where.name.empty()) requireLabel(m.where.name, m.where.loc);
}

/// `reduce` of gauc: how the groups' AUCs are weighted (runtime/Metrics.h).
void Sema::checkGaucReduce(const Expr& e) {
  static const std::vector<std::string> kReduce = {"mean", "mean_by_sample_num",
                                                   "mean_by_positive_num"};
  auto* n = dynCast<NameExpr>(&e);
  if (n && std::find(kReduce.begin(), kReduce.end(), n->name) != kReduce.end()) return;
  error(e.loc, "unknown 'reduce' of 'gauc'" +
                   (n ? " '" + n->name + "'" + didYouMean(n->name, kReduce) : std::string()) +
                   "; expected 'mean', 'mean_by_sample_num' or 'mean_by_positive_num'");
}

void Sema::checkOptimizer(const Expr& e) {
  std::vector<const Expr*> args;
  const BuiltinRecord* sig = contextCall(e, BuiltinContext::Optimizer, "optimizer", args);
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
  int64_t rows;
  if (st.batch)
    constInt(st.batch.get(), 1, kMaxWidth, "stream '" + st.name.name + "' 'batch'", rows);
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
                                                     "init", "freeze", "clip_norm"};
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
    else if (name == "clip_norm") {
      // The largest global gradient norm (runtime/GradientClip.h).
      double c;
      if (constNumber(s.value.get(), "'clip_norm'", c) && !(c > 0 && std::isfinite(c)))
        error(s.value->loc, "'clip_norm' must be a positive number (the largest global "
                            "gradient norm), got " + fmtNumber(c));
    }
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
                            " (settings: optimizer, batch, epochs, seed, init, freeze, clip_norm)");
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

} // namespace recc::sema

namespace recc {

bool checkProgram(const ast::Program& prog, DiagnosticEngine& diag) {
  // The layers and functions are registered by recc_compiler (dsl/Builtins.h);
  // a program that links the dsl alone would see every one as unknown.
  if (builtinNames(BuiltinContext::Expr).empty()) {
    diag.error(SourceLoc{prog.file}, "internal error: no layers or functions are registered "
                                     "(the compiler library registers them)");
    return false;
  }
  return sema::Sema(diag).run(prog);
}

} // namespace recc
