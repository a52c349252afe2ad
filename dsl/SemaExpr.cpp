// SemaExpr: Sema's checks of expressions — names, calls, builtin calls (bound
// to their record's parameters here, checked by the record: see
// dsl/BuiltinCheck.h), block calls, experts, embeddings and constant
// arguments.
#include "dsl/SemaChecker.h"

namespace recc::sema {

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
  if (r.status != Lookup::Unknown) {
    const Symbol* sym = resolve(c.callee, c.loc, scope);
    if (sym)
      error(c.loc, "'" + c.callee + "' is " + kindNoun(*sym) + ", not a block or function");
    return Ty::Error;
  }
  if (const BuiltinRecord* sig = findBuiltin(c.callee, BuiltinContext::Expr))
    return checkBuiltin(*sig, c, scope);
  if (const BuiltinRecord* other = findAnyBuiltin(c.callee)) {
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

/// Binds the call's arguments to the record's parameters and runs its check.
Ty Sema::checkBuiltin(const BuiltinRecord& record, const CallExpr& c, Scope& scope) {
  if (record.bindsOwnArgs) {
    BuiltinCheck check(*this, scope, record, c, {}, {});
    return record.check(check) ? Ty::Tensor : Ty::Error;
  }
  std::vector<const Expr*> args, kw;
  std::string desc = "'";  // built by appending: GCC 12 -Wrestrict misfires on "'" + string
  desc.append(record.name).append("'");
  if (!bindArgs(c, desc, record.params, record.variadic, record.usage, args, diag_, 0, &kw))
    return Ty::Error;
  struct Defer {  // constant arguments of layers may come through block parameters
    bool& flag, saved;
    explicit Defer(bool& f) : flag(f), saved(f) { flag = true; }
    ~Defer() { flag = saved; }
  } defer(deferNames_);
  BuiltinCheck check(*this, scope, record, c, std::move(args), std::move(kw));
  return !record.check || record.check(check) ? Ty::Tensor : Ty::Error;
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
const BuiltinRecord* Sema::contextCall(const Expr& e, BuiltinContext ctx, const char* what,
                                    std::vector<const Expr*>& args) {
  std::string name;
  if (auto* n = dynCast<NameExpr>(&e)) name = n->name;
  else if (auto* c = dynCast<CallExpr>(&e)) name = c->callee;
  else {
    error(e.loc, std::string("expected ") + contextNoun(ctx) + ", e.g. " +
                     builtinNames(ctx).front() + "(...)");
    return nullptr;
  }
  const BuiltinRecord* sig = findBuiltin(name, ctx);
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

Const Sema::constant(const Expr* e, const std::string& what, double& out) {
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

} // namespace recc::sema
