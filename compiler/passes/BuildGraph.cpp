// BuildGraph: AST -> Graph + ModelPlan (see BuildGraph.h for the algorithm and
// the parameter naming rule). The builtins are compositions of primitive ops:
//   dense(x, n)      matmul(x, w) + b
//   mlp(x, ws)       dense -> activation -> dropout, per width
//   bce(p, y)        -mean(y*log(clamp(p)) + (1-y)*log(1-clamp(p))), clamp to [1e-7, 1-1e-7]
//   bce_logits(z, y) mean(softplus(z) - z*y)
//   1 - x, 2 * x     scale_shift(x, -1, 1), scale_shift(x, 2, 0)
#include "compiler/passes/BuildGraph.h"

#include "compiler/ops/OpDef.h"
#include "dsl/Builtins.h"
#include "dsl/Sema.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace recc {

using namespace ast;
using FeatureKind = rt::FeatureSpec::Kind;

namespace {

constexpr double kProbEps = 1e-7;
/// A model whose graph grows past this many nodes is rejected (a chain of
/// blocks each calling the next twice grows exponentially).
constexpr size_t kMaxNodes = size_t(1) << 20;
constexpr size_t kMaxBlockDepth = 64;

struct TooLarge {};

struct InputInfo {
  const Ident* ident = nullptr;
  FeatureKind kind = FeatureKind::Dense;
  int64_t vocab = 0, len = 0;
  std::string transform = "none";
  NodeId node = kNoNode;  ///< dense: the feature input
  NodeId rows = kNoNode;  ///< id: the embedding-rows input
  std::string table;      ///< id: the table that embeds it
  SourceLoc embedLoc;
};

struct LabelInfo {
  const Ident* ident;
  NodeId node = kNoNode;
};

struct TableInfo {
  const TableDecl* decl = nullptr;
  int64_t rows = 0, dim = 0;
  rt::InitSpec init{"uniform", 0.05};
  bool used = false;
};

/// The result of evaluating an expression.
struct Value {
  enum class Kind { Error, Tensor, Number, Table, Ids };
  Kind kind = Kind::Error;
  NodeId node = kNoNode;
  double number = 0;
  TableInfo* table = nullptr;
  InputInfo* input = nullptr;
  std::string name;  ///< the name it was read through ("" for temporaries)
  SourceLoc declLoc;

  static Value tensor(NodeId n) {
    Value v;
    v.kind = n == kNoNode ? Kind::Error : Kind::Tensor;
    v.node = n;
    return v;
  }
  static Value num(double x) {
    Value v;
    v.kind = Kind::Number;
    v.number = x;
    return v;
  }
  bool ok() const { return kind != Kind::Error; }
};

/// The model body or one block instantiation.
struct Frame {
  const BlockDecl* block = nullptr;
  SourceLoc callLoc;
  std::map<std::string, Value> vars;
};

int64_t intConst(const Expr* e, int64_t dflt = 0) {
  double v;
  return e && constantValue(*e, v) ? (int64_t)v : dflt;
}

double numConst(const Expr* e, double dflt = 0) {
  double v;
  return e && constantValue(*e, v) ? v : dflt;
}

class GraphBuilder {
public:
  GraphBuilder(const Program& prog, const ModelDecl& model, GraphMode mode, DiagnosticEngine& diag)
      : prog_(prog), model_(model), mode_(mode), diag_(diag) {}

  bool build();
  BuiltModel take() { return {std::move(g_), std::move(plan_)}; }

private:
  // Declarations and plan.
  void indexDeclarations();
  void bindResults();
  void fillPlan();

  // Statements and expressions.
  Value evalTop(const Expr& e, const std::string& prefix);
  Value eval(const Expr& e, const std::string& prefix);
  Value lookup(const std::string& name, const SourceLoc& loc);
  Value evalBinary(const BinaryExpr& b, const std::string& prefix);
  Value evalCall(const CallExpr& c, const std::string& prefix, bool wholeStatement);
  Value instantiate(const BlockDecl& b, std::vector<Value> args, const std::string& prefix,
                    const SourceLoc& callLoc);
  Value evalBuiltin(const BuiltinSig& sig, const CallExpr& c, const std::string& prefix);

  // Builtins.
  Value embed(const CallExpr& c, const Value& table, const Value& ids);
  NodeId dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc);
  NodeId dropout(NodeId x, double p, const SourceLoc& loc);
  NodeId activation(NodeId x, const std::string& act, const SourceLoc& loc);
  NodeId bce(const Value& p, const Value& y, const Value* weight, bool logits,
             const SourceLoc& loc, const char* name);
  NodeId reduce(OpKind kind, NodeId x, const double* axis, const SourceLoc& axisLoc,
                const SourceLoc& loc);

  // Nodes.
  NodeId add(OpKind kind, std::vector<NodeId> in, Attrs attrs, const SourceLoc& loc,
             std::vector<const Value*> operands = {});
  NodeId scaleShift(NodeId x, double scale, double shift, const SourceLoc& loc);
  NodeId param(const std::string& name, std::vector<int64_t> shape, rt::InitSpec init,
               const SourceLoc& loc);
  NodeId inputNode(ValueRole role, const std::string& name, std::vector<int64_t> shape,
                   const SourceLoc& loc);
  NodeId tensorOf(const Value& v, const Expr& e, const std::string& what);
  bool number(const Expr* e, const std::string& prefix, const std::string& what, double& out);
  bool width(const Expr* e, const std::string& prefix, const std::string& what, int64_t& out);
  bool probability(const Expr* e, const std::string& prefix, const std::string& what, double& out);
  std::string nextName(const std::string& prefix, const std::string& callee);
  const Shape& shapeOf(NodeId id) const { return g_.node(id).shape; }

  void report(const SourceLoc& loc, const std::string& msg,
              std::vector<std::pair<SourceLoc, std::string>> notes = {});

  const Program& prog_;
  const ModelDecl& model_;
  GraphMode mode_;
  DiagnosticEngine& diag_;
  Graph g_;
  rt::ModelPlan plan_;

  std::vector<std::string> inputOrder_, tableOrder_;
  std::map<std::string, InputInfo> inputs_;
  std::map<std::string, LabelInfo> labels_;
  std::map<std::string, TableInfo> tables_;
  std::map<std::string, const BlockDecl*> blocks_;
  std::vector<Frame*> frames_;  ///< back() is the innermost
  Frame modelFrame_;
  struct Loss {
    const LossStmt* stmt;
    Value value;
  };
  std::vector<Loss> losses_;

  std::map<std::string, int> counters_;
  std::set<std::string> paramNames_;
  std::set<std::pair<std::string, std::string>> reported_;
  NodeId seed_ = kNoNode;
  int64_t salt_ = 0;
  bool failed_ = false;
};

//===----------------------------------------------------------------------===//
// Diagnostics and nodes
//===----------------------------------------------------------------------===//

/// Reports once per location and message (a block instantiated four times
/// would otherwise repeat its errors), adding where each enclosing block was
/// called.
void GraphBuilder::report(const SourceLoc& loc, const std::string& msg,
                          std::vector<std::pair<SourceLoc, std::string>> notes) {
  failed_ = true;
  if (!reported_.insert({loc.str(), msg}).second) return;
  diag_.error(loc, msg);
  for (const auto& [l, n] : notes) diag_.note(l, n);
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if ((*it)->block)
      diag_.note((*it)->callLoc, "in block '" + (*it)->block->name.name + "' called here");
}

NodeId GraphBuilder::add(OpKind kind, std::vector<NodeId> in, Attrs attrs, const SourceLoc& loc,
                         std::vector<const Value*> operands) {
  for (NodeId i : in)
    if (i == kNoNode) return kNoNode;
  if (g_.size() >= kMaxNodes) throw TooLarge{};
  NodeId id = g_.add(kind, std::move(in), std::move(attrs), loc);
  try {
    g_.node(id).shape = inferNodeShape(g_, id);
  } catch (const ShapeError& e) {
    std::vector<std::pair<SourceLoc, std::string>> notes;
    for (const Value* v : operands)
      if (v && !v->name.empty() && v->declLoc.known() && v->node != kNoNode)
        notes.push_back({v->declLoc, "'" + v->name + "' has shape " + shapeOf(v->node).str()});
    report(loc, e.what(), notes);
    return kNoNode;
  }
  return id;
}

NodeId GraphBuilder::scaleShift(NodeId x, double scale, double shift, const SourceLoc& loc) {
  if (scale == 1 && shift == 0) return x;
  return add(OpKind::ScaleShift, {x}, {{"scale", scale}, {"shift", shift}}, loc);
}

NodeId GraphBuilder::param(const std::string& name, std::vector<int64_t> shape,
                           rt::InitSpec init, const SourceLoc& loc) {
  if (!paramNames_.insert(name).second) {
    report(loc, "parameter name '" + name +
                    "' is produced twice; rename one of the values that create it");
    return kNoNode;
  }
  NodeId id = add(OpKind::Param, {}, {{"shape", shape}}, loc);
  if (id == kNoNode) return id;
  g_.node(id).name = name;
  g_.addInput(id, ValueRole::Param, name);
  plan_.params.push_back({name, std::move(shape), init});
  return id;
}

NodeId GraphBuilder::inputNode(ValueRole role, const std::string& name, std::vector<int64_t> shape,
                               const SourceLoc& loc) {
  NodeId id = add(OpKind::Input, {}, {{"role", std::string(roleName(role))}, {"shape", shape}}, loc);
  if (id == kNoNode) return id;
  g_.node(id).name = name;
  g_.addInput(id, role, name);
  return id;
}

std::string GraphBuilder::nextName(const std::string& prefix, const std::string& callee) {
  int k = counters_[prefix + '\x1f' + callee]++;
  return prefix + "." + callee + std::to_string(k);
}

/// The node of a tensor value; reports (and returns kNoNode) for numbers,
/// tables and id inputs that reach a tensor position through a block parameter.
NodeId GraphBuilder::tensorOf(const Value& v, const Expr& e, const std::string& what) {
  switch (v.kind) {
  case Value::Kind::Tensor: return v.node;
  case Value::Kind::Error: return kNoNode;
  case Value::Kind::Number: report(e.loc, what + " must be a tensor, but it is a number"); break;
  case Value::Kind::Table:
    report(e.loc, what + " must be a tensor, but it is table '" + v.table->decl->name.name +
                      "'; look rows up with embed(" + v.table->decl->name.name + ", <id input>)");
    break;
  case Value::Kind::Ids:
    report(e.loc, what + " must be a tensor, but it is id input '" + v.input->ident->name +
                      "'; embed it first: embed(<table>, " + v.input->ident->name + ")");
    break;
  }
  return kNoNode;
}

/// A constant argument of a builtin. Sema checked literals; numbers that come
/// through block parameters or number-valued names are checked here.
bool GraphBuilder::number(const Expr* e, const std::string& prefix, const std::string& what,
                          double& out) {
  Value v = eval(*e, prefix);
  if (!v.ok()) return false;
  if (v.kind != Value::Kind::Number) {
    report(e->loc, what + " must be a constant number");
    return false;
  }
  out = v.number;
  return true;
}

bool GraphBuilder::width(const Expr* e, const std::string& prefix, const std::string& what,
                         int64_t& out) {
  double v;
  if (!number(e, prefix, what, v)) return false;
  if (v != std::floor(v) || v < 1 || v > (double)kMaxWidth) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    report(e->loc, what + " must be a positive integer no larger than " +
                       std::to_string(kMaxWidth) + ", got " + buf);
    return false;
  }
  out = (int64_t)v;
  return true;
}

bool GraphBuilder::probability(const Expr* e, const std::string& prefix, const std::string& what,
                               double& out) {
  if (!number(e, prefix, what, out)) return false;
  if (out >= 0 && out < 1) return true;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", out);
  report(e->loc, what + " must be in [0, 1), got " + buf);
  return false;
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

void GraphBuilder::indexDeclarations() {
  auto addTable = [&](const TableDecl& t) {
    TableInfo info;
    info.decl = &t;
    info.rows = intConst(t.rows.get());
    info.dim = intConst(t.dim.get());
    if (auto* n = dynCast<NameExpr>(t.init.get())) info.init = {n->name, 0.0};
    if (auto* c = dynCast<CallExpr>(t.init.get()))
      info.init = {c->callee, c->args.empty() ? 0.0 : numConst(c->args[0].value.get())};
    tables_.emplace(t.name.name, info);
    tableOrder_.push_back(t.name.name);
  };
  for (const auto& d : prog_.decls) {
    if (auto* t = dynCast<TableDecl>(d.get())) addTable(*t);
    if (auto* b = dynCast<BlockDecl>(d.get())) blocks_[b->name.name] = b;
  }
  for (const auto& s : model_.body) {
    if (auto* t = dynCast<TableDecl>(s.get())) addTable(*t);
    if (auto* b = dynCast<BlockDecl>(s.get())) blocks_[b->name.name] = b;
    if (auto* l = dynCast<LabelDecl>(s.get()))
      for (const auto& n : l->names) {
        labels_.emplace(n.name, LabelInfo{&n});
        plan_.labels.push_back({n.name, n.column.empty() ? n.name : n.column});
      }
    if (auto* in = dynCast<InputDecl>(s.get())) {
      InputInfo info;
      info.kind = FeatureKind::Dense;
      std::string type;
      const CallExpr* call = dynCast<CallExpr>(in->type.get());
      if (call) type = call->callee;
      else if (auto* n = dynCast<NameExpr>(in->type.get())) type = n->name;
      std::vector<const Expr*> args;
      if (const BuiltinSig* sig = findBuiltin(type, BuiltinContext::InputType); sig && call)
        bindArgs(*call, type, sig->params, false, "", args, diag_);
      if (type == "id" || type == "ids") {
        info.kind = type == "id" ? FeatureKind::Categorical : FeatureKind::MultiCategorical;
        info.vocab = intConst(args.size() > 0 ? args[0] : nullptr);
        info.len = intConst(args.size() > 1 ? args[1] : nullptr);
      } else if (auto* t = dynCast<NameExpr>(args.empty() ? nullptr : args[0])) {
        info.transform = t->name;
      }
      for (const auto& n : in->names) {
        info.ident = &n;
        inputs_.emplace(n.name, info);
        inputOrder_.push_back(n.name);
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

Value GraphBuilder::lookup(const std::string& name, const SourceLoc& loc) {
  Frame& f = *frames_.back();
  if (auto it = f.vars.find(name); it != f.vars.end()) return it->second;
  Value v;
  v.name = name;
  if (!f.block) {
    if (auto it = inputs_.find(name); it != inputs_.end()) {
      InputInfo& in = it->second;
      v.declLoc = in.ident->loc;
      if (in.kind != FeatureKind::Dense) {
        v.kind = Value::Kind::Ids;
        v.input = &in;
        return v;
      }
      if (in.node == kNoNode) in.node = inputNode(ValueRole::Feature, name, {kBatchDim, 1}, in.ident->loc);
      v.kind = in.node == kNoNode ? Value::Kind::Error : Value::Kind::Tensor;
      v.node = in.node;
      return v;
    }
    if (auto it = labels_.find(name); it != labels_.end()) {
      LabelInfo& l = it->second;
      if (l.node == kNoNode) l.node = inputNode(ValueRole::Label, name, {kBatchDim, 1}, l.ident->loc);
      v.declLoc = l.ident->loc;
      v.kind = l.node == kNoNode ? Value::Kind::Error : Value::Kind::Tensor;
      v.node = l.node;
      return v;
    }
  }
  if (auto it = tables_.find(name); it != tables_.end()) {
    v.kind = Value::Kind::Table;
    v.table = &it->second;
    v.declLoc = it->second.decl->name.loc;
    return v;
  }
  report(loc, "unknown name '" + name + "'");
  return Value{};
}

/// A statement's right-hand side: a block call there is named after the
/// statement itself.
Value GraphBuilder::evalTop(const Expr& e, const std::string& prefix) {
  if (auto* c = dynCast<CallExpr>(&e); c && blocks_.count(c->callee) &&
                                       !frames_.back()->vars.count(c->callee))
    return evalCall(*c, prefix, true);
  return eval(e, prefix);
}

Value GraphBuilder::eval(const Expr& e, const std::string& prefix) {
  switch (e.kind) {
  case Expr::Kind::Number: return Value::num(static_cast<const NumberExpr&>(e).value);
  case Expr::Kind::Name: return lookup(static_cast<const NameExpr&>(e).name, e.loc);
  case Expr::Kind::Neg: {
    auto& n = static_cast<const NegExpr&>(e);
    Value v = eval(*n.operand, prefix);
    if (v.kind == Value::Kind::Number) return Value::num(-v.number);
    return Value::tensor(add(OpKind::Neg, {tensorOf(v, *n.operand, "the operand of '-'")}, {}, e.loc));
  }
  case Expr::Kind::Binary: return evalBinary(static_cast<const BinaryExpr&>(e), prefix);
  case Expr::Kind::Call: return evalCall(static_cast<const CallExpr&>(e), prefix, false);
  case Expr::Kind::String:
  case Expr::Kind::List: report(e.loc, "a string or list is not a value"); break;
  }
  return Value{};
}

Value GraphBuilder::evalBinary(const BinaryExpr& b, const std::string& prefix) {
  Value l = eval(*b.lhs, prefix), r = eval(*b.rhs, prefix);
  if (!l.ok() || !r.ok()) return Value{};
  const SourceLoc& loc = b.loc;
  bool ln = l.kind == Value::Kind::Number, rn = r.kind == Value::Kind::Number;
  if (ln && rn) {
    double x = l.number, y = r.number, out = 0;
    switch (b.op) {
    case '+': out = x + y; break;
    case '-': out = x - y; break;
    case '*': out = x * y; break;
    case '/':
      if (y == 0) {
        report(loc, "division by zero");
        return Value{};
      }
      out = x / y;
      break;
    }
    if (!std::isfinite(out)) {
      report(loc, "constant expression overflows");
      return Value{};
    }
    return Value::num(out);
  }
  std::string what = std::string("operand of '") + b.op + "'";
  if (ln) {  // c op x
    NodeId x = tensorOf(r, *b.rhs, "the right " + what);
    switch (b.op) {
    case '+': return Value::tensor(scaleShift(x, 1, l.number, loc));
    case '-': return Value::tensor(scaleShift(x, -1, l.number, loc));
    case '*': return Value::tensor(scaleShift(x, l.number, 0, loc));
    default: {
      NodeId c = add(OpKind::Constant, {}, {{"value", l.number}, {"shape", std::vector<int64_t>{}}}, loc);
      return Value::tensor(add(OpKind::Div, {c, x}, {}, loc));
    }
    }
  }
  if (rn) {  // x op c
    NodeId x = tensorOf(l, *b.lhs, "the left " + what);
    switch (b.op) {
    case '+': return Value::tensor(scaleShift(x, 1, r.number, loc));
    case '-': return Value::tensor(scaleShift(x, 1, -r.number, loc));
    case '*': return Value::tensor(scaleShift(x, r.number, 0, loc));
    default:
      if (r.number == 0) {
        report(loc, "division by zero");
        return Value{};
      }
      return Value::tensor(scaleShift(x, 1 / r.number, 0, loc));
    }
  }
  NodeId x = tensorOf(l, *b.lhs, "the left " + what), y = tensorOf(r, *b.rhs, "the right " + what);
  OpKind kind = b.op == '+' ? OpKind::Add : b.op == '-' ? OpKind::Sub
              : b.op == '*' ? OpKind::Mul : OpKind::Div;
  return Value::tensor(add(kind, {x, y}, {}, loc, {&l, &r}));
}

Value GraphBuilder::evalCall(const CallExpr& c, const std::string& prefix, bool wholeStatement) {
  auto block = blocks_.find(c.callee);
  if (block != blocks_.end() && !frames_.back()->vars.count(c.callee)) {
    const BlockDecl& b = *block->second;
    std::vector<BuiltinParam> params;
    for (const auto& p : b.params) params.push_back({p.name.c_str(), true});
    std::vector<const Expr*> argExprs;
    if (!bindArgs(c, "block '" + b.name.name + "'", params, false, "", argExprs, diag_)) {
      failed_ = true;
      return Value{};
    }
    std::vector<Value> args;
    for (const Expr* a : argExprs) args.push_back(eval(*a, prefix));
    for (const Value& v : args)
      if (!v.ok()) return Value{};
    std::string instance = wholeStatement ? prefix : nextName(prefix, b.name.name);
    return instantiate(b, std::move(args), instance, c.loc);
  }
  if (const BuiltinSig* sig = findBuiltin(c.callee, BuiltinContext::Expr))
    return evalBuiltin(*sig, c, prefix);
  report(c.loc, "unknown function '" + c.callee + "'");
  return Value{};
}

/// Inlines block `b`: its parameters are bound to `args`, its statements are
/// evaluated in a fresh frame, and parameters are named under `prefix`.
Value GraphBuilder::instantiate(const BlockDecl& b, std::vector<Value> args,
                                const std::string& prefix, const SourceLoc& callLoc) {
  for (const Frame* f : frames_)
    if (f->block == &b) {
      report(callLoc, "block '" + b.name.name + "' calls itself; recursion is not allowed");
      return Value{};
    }
  if (frames_.size() > kMaxBlockDepth) {
    report(callLoc, "blocks call each other too deeply (more than " +
                        std::to_string(kMaxBlockDepth) + " levels)");
    return Value{};
  }
  Frame frame;
  frame.block = &b;
  frame.callLoc = callLoc;
  for (size_t i = 0; i < b.params.size() && i < args.size(); ++i) {
    Value v = args[i];
    if (v.name.empty()) {  // name temporaries after the parameter, for notes
      v.name = b.params[i].name;
      v.declLoc = b.params[i].loc;
    }
    frame.vars[b.params[i].name] = v;
  }
  frames_.push_back(&frame);
  Value result;
  for (const auto& s : b.body) {
    if (auto* a = dynCast<AssignStmt>(s.get())) {
      std::string path = prefix + "." + a->name.name;
      Value v = evalTop(*a->value, path);
      if (v.kind == Value::Kind::Tensor && g_.node(v.node).name.empty()) g_.node(v.node).name = path;
      v.name = a->name.name;
      v.declLoc = a->name.loc;
      frame.vars[a->name.name] = v;
    } else if (auto* r = dynCast<ReturnStmt>(s.get())) {
      result = evalTop(*r->value, prefix);
      break;
    }
  }
  frames_.pop_back();
  result.name.clear();  // the caller names it
  return result;
}

//===----------------------------------------------------------------------===//
// Builtins
//===----------------------------------------------------------------------===//

Value GraphBuilder::evalBuiltin(const BuiltinSig& sig, const CallExpr& c, const std::string& prefix) {
  std::vector<const Expr*> args;
  std::string desc = std::string("'") + sig.name + "'";
  if (!bindArgs(c, desc, sig.params, sig.variadic, sig.usage, args, diag_)) {
    failed_ = true;
    return Value{};
  }
  auto argWhat = [&](size_t i) {
    return sig.variadic ? "argument " + std::to_string(i + 1) + " of " + desc
                        : "argument '" + std::string(sig.params[i].name) + "' of " + desc;
  };
  std::vector<Value> vals;  // evaluated tensor-or-table arguments, in order
  auto tensorArg = [&](size_t i) {
    vals.push_back(eval(*args[i], prefix));
    return tensorOf(vals.back(), *args[i], argWhat(i));
  };
  const SourceLoc& loc = c.loc;
  switch (sig.kind) {
  case BuiltinKind::Embed: {
    Value t = eval(*args[0], prefix), ids = eval(*args[1], prefix);
    return embed(c, t, ids);
  }
  case BuiltinKind::Concat: {
    std::vector<NodeId> in;
    for (size_t i = 0; i < args.size(); ++i) in.push_back(tensorArg(i));
    for (NodeId n : in)
      if (n == kNoNode) return Value{};
    if (in.size() == 1) return Value::tensor(in[0]);
    int64_t axis = std::max<int64_t>((int64_t)shapeOf(in[0]).rank() - 1, 0);
    std::vector<const Value*> ops;
    for (const Value& v : vals) ops.push_back(&v);
    return Value::tensor(add(OpKind::Concat, in, {{"axis", axis}}, loc, ops));
  }
  case BuiltinKind::Dense: {
    NodeId x = tensorArg(0);
    int64_t units;
    if (x == kNoNode || !width(args[1], prefix, "'units' of 'dense'", units)) return Value{};
    return Value::tensor(dense(x, units, nextName(prefix, "dense"), loc));
  }
  case BuiltinKind::Mlp: {
    NodeId h = tensorArg(0);
    if (h == kNoNode) return Value{};
    std::string base = nextName(prefix, "mlp");
    std::string act = "relu";
    if (auto* a = dynCast<NameExpr>(args[3])) act = a->name;
    double p = 0;
    if (args[2] && !probability(args[2], prefix, "'dropout' of 'mlp'", p)) return Value{};
    auto* widths = dynCast<ListExpr>(args[1]);
    for (size_t i = 0; widths && i < widths->items.size() && h != kNoNode; ++i) {
      int64_t units;
      if (!width(widths->items[i].get(), prefix, "a layer width", units)) return Value{};
      h = dense(h, units, base + ".l" + std::to_string(i), loc);
      h = activation(h, act, loc);
      h = dropout(h, p, loc);
    }
    return Value::tensor(h);
  }
  case BuiltinKind::Relu:
  case BuiltinKind::Sigmoid:
  case BuiltinKind::Tanh:
  case BuiltinKind::Exp:
  case BuiltinKind::Log:
  case BuiltinKind::Softplus: {
    static const std::map<BuiltinKind, OpKind> kOps = {
        {BuiltinKind::Relu, OpKind::Relu}, {BuiltinKind::Sigmoid, OpKind::Sigmoid},
        {BuiltinKind::Tanh, OpKind::Tanh}, {BuiltinKind::Exp, OpKind::Exp},
        {BuiltinKind::Log, OpKind::Log},   {BuiltinKind::Softplus, OpKind::Softplus}};
    return Value::tensor(add(kOps.at(sig.kind), {tensorArg(0)}, {}, loc));
  }
  case BuiltinKind::Clamp: {
    NodeId x = tensorArg(0);
    double lo, hi;
    if (!number(args[1], prefix, "'lo' of 'clamp'", lo) || !number(args[2], prefix, "'hi' of 'clamp'", hi))
      return Value{};
    if (lo > hi) {
      report(loc, "'clamp' bounds are reversed: lo > hi");
      return Value{};
    }
    return Value::tensor(add(OpKind::Clamp, {x}, {{"lo", lo}, {"hi", hi}}, loc));
  }
  case BuiltinKind::Dropout: {
    NodeId x = tensorArg(0);
    double p;
    if (!probability(args[1], prefix, "the probability of 'dropout'", p)) return Value{};
    return Value::tensor(dropout(x, p, loc));
  }
  case BuiltinKind::Bce:
  case BuiltinKind::BceLogits: {
    Value p = eval(*args[0], prefix), y = eval(*args[1], prefix), w;
    if (args[2]) w = eval(*args[2], prefix);
    if (!p.ok() || !y.ok() || (args[2] && !w.ok())) return Value{};
    if (tensorOf(p, *args[0], argWhat(0)) == kNoNode || tensorOf(y, *args[1], argWhat(1)) == kNoNode)
      return Value{};
    if (args[2] && w.kind != Value::Kind::Number && tensorOf(w, *args[2], argWhat(2)) == kNoNode)
      return Value{};
    return Value::tensor(bce(p, y, args[2] ? &w : nullptr, sig.kind == BuiltinKind::BceLogits,
                             loc, sig.name));
  }
  case BuiltinKind::Mean:
  case BuiltinKind::Sum: {
    NodeId x = tensorArg(0);
    double axis = 0;
    if (args[1] && !number(args[1], prefix, "'axis'", axis)) return Value{};
    OpKind kind = sig.kind == BuiltinKind::Mean ? OpKind::ReduceMean : OpKind::ReduceSum;
    return Value::tensor(reduce(kind, x, args[1] ? &axis : nullptr, args[1] ? args[1]->loc : loc, loc));
  }
  default: break;
  }
  report(loc, desc + " cannot be used in an expression");
  return Value{};
}

Value GraphBuilder::embed(const CallExpr& c, const Value& t, const Value& ids) {
  if (!t.ok() || !ids.ok()) return Value{};
  if (t.kind != Value::Kind::Table) {
    report(c.args[0].value->loc, "argument 'table' of 'embed' must be a table");
    return Value{};
  }
  if (ids.kind != Value::Kind::Ids) {
    report(c.args[1].value->loc, "argument 'ids' of 'embed' must be an id input");
    return Value{};
  }
  InputInfo& in = *ids.input;
  TableInfo& tb = *t.table;
  const std::string& name = in.ident->name;
  const std::string& tname = tb.decl->name.name;
  if (in.kind == FeatureKind::MultiCategorical) {
    report(c.loc, "embedding the multi-valued input '" + name +
                      "' (ids(...)) is not supported yet; pooling ops come later",
           {{in.ident->loc, "'" + name + "' declared here"}});
    return Value{};
  }
  if (in.vocab > tb.rows) {
    report(c.loc, "vocabulary of '" + name + "' (" + std::to_string(in.vocab) +
                      " ids) is larger than table '" + tname + "' (" + std::to_string(tb.rows) +
                      " rows)",
           {{tb.decl->name.loc, "table '" + tname + "' declared here"}});
    return Value{};
  }
  if (!in.table.empty() && in.table != tname) {
    report(c.loc, "'" + name + "' is already embedded with table '" + in.table +
                      "'; an id input is read through one table only (declare a second input "
                      "with 'from' to embed the same column twice)",
           {{in.embedLoc, "first embedded here"}});
    return Value{};
  }
  if (in.rows == kNoNode) {
    in.rows = inputNode(ValueRole::EmbeddingRows, name, {kBatchDim, tb.dim}, c.loc);
    in.table = tname;
    in.embedLoc = c.loc;
    tb.used = true;
  }
  return Value::tensor(in.rows);
}

NodeId GraphBuilder::dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  const Shape& s = shapeOf(x);
  if (s.rank() != 2 || s[1] == kBatchDim) {
    report(loc, "'dense' expects an input of shape [B,n], got " + s.str());
    return kNoNode;
  }
  int64_t in = s[1];
  NodeId w = param(name + ".w", {in, units}, {"glorot_uniform", 0.0}, loc);
  NodeId b = param(name + ".b", {units}, {"zeros", 0.0}, loc);
  NodeId mm = add(OpKind::MatMul, {x, w}, {{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}, loc);
  return add(OpKind::Add, {mm, b}, {}, loc);
}

NodeId GraphBuilder::activation(NodeId x, const std::string& act, const SourceLoc& loc) {
  if (act == "relu") return add(OpKind::Relu, {x}, {}, loc);
  if (act == "tanh") return add(OpKind::Tanh, {x}, {}, loc);
  if (act == "sigmoid") return add(OpKind::Sigmoid, {x}, {}, loc);
  return x;  // linear
}

NodeId GraphBuilder::dropout(NodeId x, double p, const SourceLoc& loc) {
  if (x == kNoNode || mode_ == GraphMode::Eval || p == 0) return x;
  if (seed_ == kNoNode) seed_ = inputNode(ValueRole::Seed, "seed", {}, model_.name.loc);
  return add(OpKind::Dropout, {x, seed_}, {{"p", p}, {"salt", ++salt_}}, loc);
}

/// Mean binary cross-entropy, on probabilities (clamped) or on logits.
NodeId GraphBuilder::bce(const Value& pv, const Value& yv, const Value* weight, bool logits,
                         const SourceLoc& loc, const char* name) {
  NodeId p = pv.node, y = yv.node;
  if (shapeOf(p) != shapeOf(y)) {
    std::string what = logits ? "logits" : "a prediction";
    report(loc, std::string("'") + name + "' expects " + what + " and a label of the same shape, got " +
                    shapeOf(p).str() + " and " + shapeOf(y).str());
    return kNoNode;
  }
  NodeId perRow;  // per-row loss (logits) or log-likelihood (probabilities)
  if (logits) {
    NodeId sp = add(OpKind::Softplus, {p}, {}, loc);
    perRow = add(OpKind::Sub, {sp, add(OpKind::Mul, {p, y}, {}, loc)}, {}, loc);
  } else {
    NodeId pc = add(OpKind::Clamp, {p}, {{"lo", kProbEps}, {"hi", 1 - kProbEps}}, loc);
    NodeId logP = add(OpKind::Log, {pc}, {}, loc);
    NodeId log1mP = add(OpKind::Log, {scaleShift(pc, -1, 1, loc)}, {}, loc);
    NodeId pos = add(OpKind::Mul, {y, logP}, {}, loc);
    NodeId neg = add(OpKind::Mul, {scaleShift(y, -1, 1, loc), log1mP}, {}, loc);
    perRow = add(OpKind::Add, {pos, neg}, {}, loc);
  }
  double scale = logits ? 1 : -1;
  if (weight && weight->kind == Value::Kind::Number) {
    scale *= weight->number;
  } else if (weight && perRow != kNoNode) {
    Shape rowShape = shapeOf(perRow);
    perRow = add(OpKind::Mul, {perRow, weight->node}, {}, loc, {weight});
    if (perRow != kNoNode && shapeOf(perRow) != rowShape) {
      report(loc, std::string("the weight of '") + name + "' has shape " +
                      shapeOf(weight->node).str() + ", which does not fit the per-row loss " +
                      rowShape.str());
      return kNoNode;
    }
  }
  NodeId mean = add(OpKind::ReduceMean, {perRow},
                    {{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t(0)}}, loc);
  return scaleShift(mean, scale, 0, loc);
}

/// mean/sum over all axes (a scalar), or over `axis` keeping it as extent 1.
NodeId GraphBuilder::reduce(OpKind kind, NodeId x, const double* axisArg, const SourceLoc& axisLoc,
                            const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  if (!axisArg)
    return add(kind, {x}, {{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t(0)}}, loc);
  int64_t rank = (int64_t)shapeOf(x).rank();
  if (*axisArg != std::floor(*axisArg) || *axisArg < -rank || *axisArg >= rank) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", *axisArg);
    report(axisLoc, std::string("axis ") + buf + " is out of range for a value of shape " +
                        shapeOf(x).str());
    return kNoNode;
  }
  int64_t axis = (int64_t)*axisArg;
  if (axis < 0) axis += rank;
  return add(kind, {x}, {{"axes", std::vector<int64_t>{axis}}, {"keepdims", int64_t(1)}}, loc);
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

bool GraphBuilder::build() {
  plan_.model = model_.name.name;
  indexDeclarations();
  frames_.push_back(&modelFrame_);
  try {
    for (const auto& s : model_.body) {
      if (auto* a = dynCast<AssignStmt>(s.get())) {
        Value v = evalTop(*a->value, a->name.name);
        if (v.kind == Value::Kind::Tensor && g_.node(v.node).name.empty())
          g_.node(v.node).name = a->name.name;
        v.name = a->name.name;
        v.declLoc = a->name.loc;
        modelFrame_.vars[a->name.name] = v;
      } else if (auto* l = dynCast<LossStmt>(s.get())) {
        losses_.push_back({l, evalTop(*l->value, l->name.name)});
      }
    }
  } catch (const TooLarge&) {
    report(model_.name.loc, "model '" + model_.name.name + "' is too large (more than " +
                                std::to_string(kMaxNodes) + " graph nodes)");
    return false;
  }
  bindResults();
  fillPlan();
  g_.markForwardEnd();
  return !failed_;
}

/// Outputs, loss terms and the weighted total loss.
void GraphBuilder::bindResults() {
  for (const auto& s : model_.body) {
    auto* o = dynCast<OutputStmt>(s.get());
    for (size_t i = 0; o && i < o->names.size(); ++i) {
      const Ident& n = o->names[i];
      auto it = modelFrame_.vars.find(n.name);
      if (it == modelFrame_.vars.end() || !it->second.ok()) continue;
      if (it->second.kind != Value::Kind::Tensor) {
        report(n.loc, "output '" + n.name + "' must be a tensor, but it is a constant");
        continue;
      }
      g_.addOutput(it->second.node, ValueRole::Output, n.name);
    }
  }
  NodeId total = kNoNode;
  for (const auto& [stmt, v] : losses_) {
    const std::string& name = stmt->name.name;
    if (!v.ok()) continue;
    if (v.kind != Value::Kind::Tensor) {
      report(stmt->value->loc, "loss '" + name + "' must depend on the model, but it is a constant");
      continue;
    }
    if (!shapeOf(v.node).isScalar()) {
      report(stmt->value->loc, "loss '" + name + "' must be a scalar, but its value has shape " +
                                   shapeOf(v.node).str() + "; reduce it with mean(...) or use bce(...)");
      continue;
    }
    g_.addOutput(v.node, ValueRole::LossTerm, name);
    NodeId term = scaleShift(v.node, stmt->weight ? numConst(stmt->weight.get(), 1) : 1, 0,
                             stmt->loc);
    total = total == kNoNode ? term : add(OpKind::Add, {total, term}, {}, stmt->loc);
  }
  if (total != kNoNode && !failed_) g_.addOutput(total, ValueRole::Loss, "loss");
  else if (losses_.empty()) report(model_.name.loc, "model '" + model_.name.name + "' has no loss");
}

void GraphBuilder::fillPlan() {
  for (const auto& name : inputOrder_) {
    const InputInfo& in = inputs_.at(name);
    rt::FeatureSpec f;
    f.name = name;
    f.column = in.ident->column.empty() ? name : in.ident->column;
    f.kind = in.kind;
    f.vocab = in.vocab;
    f.maxLen = in.len;
    f.table = in.table;
    f.transform = in.transform;
    plan_.features.push_back(f);
  }
  for (const auto& name : tableOrder_) {
    const TableInfo& t = tables_.at(name);
    if (t.used) plan_.tables.push_back({name, t.rows, t.dim, t.init});
  }
  for (const auto& s : model_.body) {
    if (auto* m = dynCast<MetricStmt>(s.get())) {
      auto* call = dynCast<CallExpr>(m->value.get());
      if (!call) continue;
      rt::MetricSpec spec;
      spec.name = m->name.name;
      spec.kind = call->callee;
      const BuiltinSig* sig = findBuiltin(call->callee, BuiltinContext::Metric);
      std::vector<const Expr*> args;
      if (!sig || !bindArgs(*call, spec.kind, sig->params, false, "", args, diag_)) continue;
      if (auto* n = dynCast<NameExpr>(args[0])) spec.output = n->name;
      if (auto* n = dynCast<NameExpr>(args[1])) spec.label = n->name;
      if (auto* n = dynCast<NameExpr>(args.size() > 2 ? args[2] : nullptr)) {
        auto it = inputs_.find(n->name);
        spec.groupColumn = it == inputs_.end() || it->second.ident->column.empty()
                               ? n->name
                               : it->second.ident->column;
      }
      spec.filterLabel = m->where.name;
      NodeId out = g_.findOutput(ValueRole::Output, spec.output);
      if (out != kNoNode && shapeOf(out).numElements(1) != 1)
        report(args[0]->loc, "metric '" + spec.name + "' needs one score per row, but '" +
                                 spec.output + "' has shape " + shapeOf(out).str());
      plan_.metrics.push_back(spec);
    }
    if (auto* t = dynCast<TrainStmt>(s.get())) {
      for (const auto& st : t->settings) {
        const std::string& key = st.name.name;
        if (key == "batch") plan_.batchSize = intConst(st.value.get(), plan_.batchSize);
        if (key == "epochs") plan_.epochs = intConst(st.value.get(), plan_.epochs);
        if (key == "seed") plan_.seed = (uint64_t)intConst(st.value.get(), (int64_t)plan_.seed);
        if (key != "optimizer") continue;
        std::string kind;
        const CallExpr* call = dynCast<CallExpr>(st.value.get());
        if (call) kind = call->callee;
        else if (auto* n = dynCast<NameExpr>(st.value.get())) kind = n->name;
        const BuiltinSig* sig = findBuiltin(kind, BuiltinContext::Optimizer);
        if (!sig) continue;
        rt::OptimizerSpec& o = plan_.optimizer;
        o = rt::OptimizerSpec{};
        o.kind = kind;
        std::vector<const Expr*> args;
        if (call && !bindArgs(*call, kind, sig->params, false, "", args, diag_)) continue;
        for (size_t i = 0; i < args.size(); ++i) {
          if (!args[i]) continue;
          std::string p = sig->params[i].name;
          double v = numConst(args[i]);
          if (p == "lr") o.lr = v;
          if (p == "beta1") o.beta1 = v;
          if (p == "beta2") o.beta2 = v;
          if (p == "eps") o.eps = v;
          if (p == "initial_accumulator") o.initialAccumulator = v;
        }
      }
    }
  }
}

} // namespace

std::optional<BuiltModel> buildGraph(const Program& prog, const std::string& modelName,
                                     GraphMode mode, DiagnosticEngine& diag) {
  // Building assumes a checked program; a caller that skipped checkProgram
  // still gets its errors instead of a crash.
  DiagnosticEngine sema;
  if (!checkProgram(prog, sema)) {
    for (const Diagnostic& d : sema.diagnostics()) {
      if (d.severity == Severity::Error) diag.error(d.loc, d.message);
      else if (d.severity == Severity::Note) diag.note(d.loc, d.message);
      else diag.warning(d.loc, d.message);
    }
    return std::nullopt;
  }
  const ModelDecl* model = prog.findModel(modelName);
  if (!model) {
    std::string names;
    for (const auto& d : prog.decls)
      if (auto* m = dynCast<ModelDecl>(d.get())) names += (names.empty() ? "" : ", ") + m->name.name;
    diag.error(SourceLoc{prog.file},
               modelName.empty() ? "no model in this file"
                                 : "no model named '" + modelName + "' in this file" +
                                       (names.empty() ? "" : " (models: " + names + ")"));
    return std::nullopt;
  }
  GraphBuilder builder(prog, *model, mode, diag);
  if (!builder.build()) return std::nullopt;
  return builder.take();
}

} // namespace recc
