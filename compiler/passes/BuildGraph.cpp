// BuildGraph: AST -> Graph + ModelPlan (see BuildGraph.h for the algorithm and
// the parameter naming rule). The builtins are compositions of primitive ops:
//   dense(x, n)      matmul(x, w) + b
//   mlp(x, ws)       dense -> activation -> dropout, per width
//   bce(p, y)        -mean(y*log(clamp(p)) + (1-y)*log(1-clamp(p))), clamp to [1e-7, 1-1e-7]
//   bce_logits(z, y) mean(softplus(z) - z*y)
//   1 - x, 2 * x     scale_shift(x, -1, 1), scale_shift(x, 2, 0)
// and, for sequences, attention and experts (each a few primitive ops):
//   mask(ids)             step(ids + 0.5) on the raw ids (padding is -1)
//   masked_mean(x, m)     sum(x*m, axis 1) / max(sum(m, axis 1), 1)
//   softmax / masked_softmax   exp(x' - reduce_max(x')) * m / max(sum(..), 1e-30),
//                         x' = x*m + (m-1)*1e9: an all-masked row gives zeros
//   layer_norm, l2_normalize, batch_norm   1/sqrt(v) as exp(-0.5 * log(v))
//   dense(x, n, by = s)   per-id weights [V,...] gathered by matmul(one_hot(s), W)
//   weighted_sum(w, v)    sum(v * w, axis 1)
#include "compiler/passes/BuildGraph.h"

#include "compiler/ops/OpDef.h"
#include "dsl/Builtins.h"
#include "dsl/Sema.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

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
  int64_t batch = kBatchDim;  ///< the batch dimension of its stream
  NodeId ids = kNoNode;       ///< id: the raw ids as a feature [B,1] or [B,L]
  NodeId oneHot = kNoNode;    ///< id: one_hot(ids) [B,V], cached for `by`
  std::string transform = "none";
  NodeId node = kNoNode;  ///< dense: the feature input
  NodeId rows = kNoNode;  ///< id: the embedding-rows input
  std::string table;      ///< id: the table that embeds it
  SourceLoc embedLoc;
};

struct LabelInfo {
  const Ident* ident;
  NodeId node = kNoNode;
  int64_t batch = kBatchDim;
};

struct TableInfo {
  const TableDecl* decl = nullptr;
  int64_t rows = 0, dim = 0;
  rt::InitSpec init{"uniform", 0.05};
  bool used = false;
};

/// The result of evaluating an expression.
struct Value {
  /// Serving: a value that exists only in the serving (eval) graph (top_k).
  enum class Kind { Error, Tensor, Number, Table, Ids, Serving };
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

/// How the parameters created in a frame are made: one set per id (`by`),
/// reused from an earlier instance (`share`), or EMA shadows (`ema`).
struct ParamMode {
  InputInfo* by = nullptr;
  bool share = false, ema = false;
  double decay = 0.99;
};

/// The model body or one block instantiation.
struct Frame {
  const BlockDecl* block = nullptr;
  SourceLoc callLoc;
  std::map<std::string, Value> vars;
  ParamMode mode;
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
  BuiltModel take() { return {std::move(g_), std::move(plan_), std::move(stage_)}; }

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
                    const SourceLoc& callLoc, ParamMode mode);
  bool blockMode(const std::vector<const Expr*>& mods, const std::string& prefix,
                 std::string& instance, ParamMode& mode);
  Value experts(const CallExpr& c, const std::string& prefix);
  Value evalNew(const BuiltinSig& sig, const CallExpr& c, const std::vector<const Expr*>& args,
                const std::string& prefix);
  Value evalBuiltin(const BuiltinSig& sig, const CallExpr& c, const std::string& prefix);

  // Builtins.
  Value embed(const CallExpr& c, const Value& table, const Value& ids);
  NodeId dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc,
               InputInfo* by = nullptr);
  NodeId weight(const std::string& name, std::vector<int64_t> shape, rt::InitSpec init,
                const SourceLoc& loc, InputInfo* by, bool& perRow);
  NodeId idsOf(InputInfo& in, const SourceLoc& loc);
  NodeId oneHot(InputInfo& in, const SourceLoc& loc);
  InputInfo* routeArg(const Expr* e, const std::string& prefix);
  NodeId reshape(NodeId x, std::vector<int64_t> dims, const SourceLoc& loc);
  NodeId reduceAxes(OpKind kind, NodeId x, std::vector<int64_t> axes, bool keep,
                    const SourceLoc& loc);
  NodeId constant(double v, const SourceLoc& loc);
  NodeId rsqrt(NodeId v, double eps, const SourceLoc& loc);
  NodeId maskLike(NodeId mask, NodeId x, const SourceLoc& loc);
  NodeId maskedMean(NodeId perRow, NodeId mask, const SourceLoc& loc);
  NodeId softmax(NodeId x, NodeId mask, const SourceLoc& loc);
  NodeId stack(const std::vector<NodeId>& xs, const SourceLoc& loc);
  NodeId layerNorm(NodeId x, double eps, const std::string& name, const SourceLoc& loc);
  NodeId batchNorm(NodeId x, double momentum, double eps, const std::string& name,
                   const SourceLoc& loc);
  NodeId stateInput(const std::string& name, std::vector<int64_t> shape, Attrs extra,
                    const SourceLoc& loc);
  void markFrozen();
  NodeId dropout(NodeId x, double p, const SourceLoc& loc);
  NodeId activation(NodeId x, const std::string& act, const SourceLoc& loc);
  NodeId bce(const Value& p, const Value& y, const Value* weight, bool logits,
             const SourceLoc& loc, const char* name, NodeId mask = kNoNode, bool mse = false);
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
  std::map<std::string, NodeId> paramNodes_, stateNodes_;
  StageSpec stage_;
  NodeId progress_ = kNoNode;
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
  const ParamMode& mode = frames_.back()->mode;
  if (mode.share || mode.ema) {
    // The instance's parameters exist already: reuse them, or shadow them.
    auto it = paramNodes_.find(name);
    const char* kw = mode.share ? "share" : "ema";
    if (it == paramNodes_.end() || shapeOf(it->second).dims != shape) {
      report(loc, std::string("'") + kw + "' needs parameter '" + name + "' of shape " +
                      Shape(shape).str() + ", but " +
                      (it == paramNodes_.end() ? "there is none: the shared call must have the "
                                                 "structure of the one that made its parameters"
                                               : "it has shape " + shapeOf(it->second).str()));
      return kNoNode;
    }
    if (mode.share) return it->second;
    return stateInput(name + ".ema", shape, {{"ema_of", name}, {"decay", mode.decay}}, loc);
  }
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
  paramNodes_[name] = id;
  return id;
}

/// A State input (running statistics, EMA shadows), created once per name.
NodeId GraphBuilder::stateInput(const std::string& name, std::vector<int64_t> shape, Attrs extra,
                                const SourceLoc& loc) {
  if (auto it = stateNodes_.find(name); it != stateNodes_.end()) return it->second;
  extra.set("role", std::string(roleName(ValueRole::State)));
  extra.set("shape", shape);
  NodeId id = add(OpKind::Input, {}, std::move(extra), loc);
  if (id == kNoNode) return id;
  g_.node(id).name = name;
  g_.addInput(id, ValueRole::State, name);
  stateNodes_[name] = id;
  return id;
}

/// A parameter of `shape`, or with `by`, one per id of `by` ([V, shape...])
/// gathered for each row by matmul(one_hot(by), W): then `perRow` is set and
/// the result is [B, shape...].
NodeId GraphBuilder::weight(const std::string& name, std::vector<int64_t> shape,
                            rt::InitSpec init, const SourceLoc& loc, InputInfo* by,
                            bool& perRow) {
  perRow = false;
  if (!by) by = frames_.back()->mode.by;
  if (!by) return param(name, std::move(shape), init, loc);
  std::vector<int64_t> full = shape;
  full.insert(full.begin(), by->vocab);
  NodeId p = param(name, full, init, loc);
  NodeId oh = oneHot(*by, loc);
  if (p == kNoNode || oh == kNoNode) return kNoNode;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  NodeId flat = shape.size() == 1 ? p : reshape(p, {by->vocab, n}, loc);
  NodeId rows = add(OpKind::MatMul, {oh, flat},
                    {{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}}, loc);
  perRow = true;
  if (shape.size() == 1) return rows;
  std::vector<int64_t> dims = shape;
  dims.insert(dims.begin(), shapeOf(oh)[0]);
  return reshape(rows, dims, loc);
}

NodeId GraphBuilder::reshape(NodeId x, std::vector<int64_t> dims, const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  if (shapeOf(x).dims == dims) return x;
  return add(OpKind::Reshape, {x}, {{"shape", dims}}, loc);
}

NodeId GraphBuilder::reduceAxes(OpKind kind, NodeId x, std::vector<int64_t> axes, bool keep,
                                const SourceLoc& loc) {
  return add(kind, {x}, {{"axes", axes}, {"keepdims", int64_t(keep)}}, loc);
}

NodeId GraphBuilder::constant(double v, const SourceLoc& loc) {
  return add(OpKind::Constant, {}, {{"value", v}, {"shape", std::vector<int64_t>{}}}, loc);
}

/// 1 / sqrt(v + eps), as exp(-0.5 * log(v + eps)) (no new primitive).
NodeId GraphBuilder::rsqrt(NodeId v, double eps, const SourceLoc& loc) {
  NodeId l = add(OpKind::Log, {scaleShift(v, 1, eps, loc)}, {}, loc);
  return add(OpKind::Exp, {scaleShift(l, -0.5, 0, loc)}, {}, loc);
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
  case Value::Kind::Serving:
    report(e.loc, what + " is a serving-only value (top_k); it exists only in the serving graph "
                         "and can only be an output");
    break;
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
  // A stream block's inputs and labels get the batch dimension of their stream.
  auto indexBody = [&](const std::vector<StmtPtr>& body, int64_t batch, auto& self) -> void {
    for (const auto& s : body) {
      if (auto* st = dynCast<StreamDecl>(s.get())) {
        stage_.streams.push_back(st->name.name);
        self(st->body, streamBatchDim((int)stage_.streams.size()), self);
      }
      if (auto* t = dynCast<TableDecl>(s.get())) addTable(*t);
      if (auto* b = dynCast<BlockDecl>(s.get())) blocks_[b->name.name] = b;
      if (auto* l = dynCast<LabelDecl>(s.get()))
        for (const auto& n : l->names) {
          labels_.emplace(n.name, LabelInfo{&n, kNoNode, batch});
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
        info.batch = batch;
        for (const auto& n : in->names) {
          info.ident = &n;
          inputs_.emplace(n.name, info);
          inputOrder_.push_back(n.name);
        }
      }
    }
  };
  indexBody(model_.body, kBatchDim, indexBody);
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
      if (in.node == kNoNode) in.node = inputNode(ValueRole::Feature, name, {in.batch, 1}, in.ident->loc);
      v.kind = in.node == kNoNode ? Value::Kind::Error : Value::Kind::Tensor;
      v.node = in.node;
      return v;
    }
    if (auto it = labels_.find(name); it != labels_.end()) {
      LabelInfo& l = it->second;
      if (l.node == kNoNode) l.node = inputNode(ValueRole::Label, name, {l.batch, 1}, l.ident->loc);
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
    std::vector<std::string> params;
    for (const auto& p : b.params) params.push_back(p.name);
    std::vector<const Expr*> argExprs, mods;
    if (!bindBlockArgs(c, b.name.name, params, argExprs, mods, diag_)) {
      failed_ = true;
      return Value{};
    }
    std::vector<Value> args;
    for (const Expr* a : argExprs) args.push_back(eval(*a, prefix));
    for (const Value& v : args)
      if (!v.ok()) return Value{};
    std::string instance = wholeStatement ? prefix : nextName(prefix, b.name.name);
    ParamMode mode;
    if (!blockMode(mods, prefix, instance, mode)) return Value{};
    return instantiate(b, std::move(args), instance, c.loc, mode);
  }
  if (c.callee == "experts" && !frames_.back()->vars.count(c.callee)) return experts(c, prefix);
  if (const BuiltinSig* sig = findBuiltin(c.callee, BuiltinContext::Expr))
    return evalBuiltin(*sig, c, prefix);
  report(c.loc, "unknown function '" + c.callee + "'");
  return Value{};
}

/// The parameter mode of a block call from its keywords (by, share, ema,
/// decay); share/ema replace the instance name by the named value's.
bool GraphBuilder::blockMode(const std::vector<const Expr*>& mods, const std::string& prefix,
                             std::string& instance, ParamMode& mode) {
  mode = frames_.back()->mode;  // nested calls inherit their caller's mode
  if (mods.empty()) return true;
  if (mods[0] && !(mode.by = routeArg(mods[0], prefix))) return false;
  for (int k : {1, 2}) {
    if (!mods[k]) continue;
    auto* n = dynCast<NameExpr>(mods[k]);
    if (!n) return false;
    instance = n->name;
    (k == 1 ? mode.share : mode.ema) = true;
  }
  if (mods[3] && !number(mods[3], prefix, "'decay' of 'ema'", mode.decay)) return false;
  return true;
}

/// experts(block, n, args..., by = s): n instances `<block><k>` of the block,
/// each with its own parameters, stacked along axis 1.
Value GraphBuilder::experts(const CallExpr& c, const std::string& prefix) {
  auto* bn = c.args.size() >= 2 ? dynCast<NameExpr>(c.args[0].value.get()) : nullptr;
  auto block = bn ? blocks_.find(bn->name) : blocks_.end();
  if (block == blocks_.end()) {
    report(c.loc, "the first argument of 'experts' must be a block");
    return Value{};
  }
  const BlockDecl& b = *block->second;
  double count;
  if (!number(c.args[1].value.get(), prefix, "the number of experts", count)) return Value{};
  std::vector<std::string> params;
  for (const auto& p : b.params) params.push_back(p.name);
  std::vector<const Expr*> argExprs, mods;
  if (!bindBlockArgs(c, b.name.name, params, argExprs, mods, diag_, 2)) {
    failed_ = true;
    return Value{};
  }
  std::vector<Value> args;
  for (const Expr* a : argExprs) args.push_back(eval(*a, prefix));
  for (const Value& v : args)
    if (!v.ok()) return Value{};
  std::vector<NodeId> outs;
  for (int64_t k = 0; k < (int64_t)count; ++k) {
    std::string instance = nextName(prefix, b.name.name);
    ParamMode mode;
    if (!blockMode(mods, prefix, instance, mode)) return Value{};
    Value v = instantiate(b, args, instance, c.loc, mode);
    NodeId n = tensorOf(v, c, "the value of an expert");
    if (n == kNoNode) return Value{};
    outs.push_back(n);
  }
  return Value::tensor(stack(outs, c.loc));
}

/// Inlines block `b`: its parameters are bound to `args`, its statements are
/// evaluated in a fresh frame, and parameters are named under `prefix`.
Value GraphBuilder::instantiate(const BlockDecl& b, std::vector<Value> args,
                                const std::string& prefix, const SourceLoc& callLoc,
                                ParamMode mode) {
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
  frame.mode = mode;
  // A shared or shadowed instance numbers its builtins afresh, so that its
  // parameter names are those of the instance it reuses.
  std::map<std::string, int> savedCounters;
  bool reuse = mode.share || mode.ema;
  if (reuse) savedCounters.swap(counters_);
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
  if (reuse) counters_.swap(savedCounters);
  result.name.clear();  // the caller names it
  return result;
}

//===----------------------------------------------------------------------===//
// Builtins
//===----------------------------------------------------------------------===//

Value GraphBuilder::evalBuiltin(const BuiltinSig& sig, const CallExpr& c, const std::string& prefix) {
  std::vector<const Expr*> args, kw;
  std::string desc = std::string("'") + sig.name + "'";
  if (!bindArgs(c, desc, sig.params, sig.variadic, sig.usage, args, diag_, 0, &kw)) {
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
    if (double a; !kw.empty() && kw[0]) {
      if (!number(kw[0], prefix, "'axis' of 'concat'", a)) return Value{};
      axis = (int64_t)a;
    }
    std::vector<const Value*> ops;
    for (const Value& v : vals) ops.push_back(&v);
    return Value::tensor(add(OpKind::Concat, in, {{"axis", axis}}, loc, ops));
  }
  case BuiltinKind::Dense: {
    NodeId x = tensorArg(0);
    int64_t units;
    if (x == kNoNode || !width(args[1], prefix, "'units' of 'dense'", units)) return Value{};
    InputInfo* by = routeArg(args[2], prefix);
    if (args[2] && !by) return Value{};
    return Value::tensor(dense(x, units, nextName(prefix, "dense"), loc, by));
  }
  case BuiltinKind::Mlp: {
    NodeId h = tensorArg(0);
    if (h == kNoNode) return Value{};
    std::string base = nextName(prefix, "mlp");
    std::string act = "relu";
    if (auto* a = dynCast<NameExpr>(args[3])) act = a->name;
    double p = 0;
    if (args[2] && !probability(args[2], prefix, "'dropout' of 'mlp'", p)) return Value{};
    InputInfo* by = routeArg(args[4], prefix);
    if (args[4] && !by) return Value{};
    auto* widths = dynCast<ListExpr>(args[1]);
    for (size_t i = 0; widths && i < widths->items.size() && h != kNoNode; ++i) {
      int64_t units;
      if (!width(widths->items[i].get(), prefix, "a layer width", units)) return Value{};
      h = dense(h, units, base + ".l" + std::to_string(i), loc, by);
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
  case BuiltinKind::Softplus:
  case BuiltinKind::Step: {
    static const std::map<BuiltinKind, OpKind> kOps = {
        {BuiltinKind::Step, OpKind::Step},
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
  case BuiltinKind::BceLogits:
  case BuiltinKind::Mse: {
    Value p = eval(*args[0], prefix), y = eval(*args[1], prefix), w;
    if (args[2]) w = eval(*args[2], prefix);
    if (!p.ok() || !y.ok() || (args[2] && !w.ok())) return Value{};
    if (tensorOf(p, *args[0], argWhat(0)) == kNoNode || tensorOf(y, *args[1], argWhat(1)) == kNoNode)
      return Value{};
    if (args[2] && w.kind != Value::Kind::Number && tensorOf(w, *args[2], argWhat(2)) == kNoNode)
      return Value{};
    NodeId mask = kNoNode;
    if (args[3] && (mask = tensorArg(3)) == kNoNode) return Value{};
    return Value::tensor(bce(p, y, args[2] ? &w : nullptr, sig.kind == BuiltinKind::BceLogits,
                             loc, sig.name, mask, sig.kind == BuiltinKind::Mse));
  }
  case BuiltinKind::Mean:
  case BuiltinKind::Sum: {
    NodeId x = tensorArg(0);
    double axis = 0;
    if (args[1] && !number(args[1], prefix, "'axis'", axis)) return Value{};
    OpKind kind = sig.kind == BuiltinKind::Mean ? OpKind::ReduceMean : OpKind::ReduceSum;
    if (!args[2])
      return Value::tensor(reduce(kind, x, args[1] ? &axis : nullptr, args[1] ? args[1]->loc : loc, loc));
    // where = mask: the mean (sum) of the entries where the mask is 1.
    NodeId m = tensorArg(2);
    if (x == kNoNode || m == kNoNode) return Value{};
    NodeId mb = add(OpKind::BroadcastLike, {maskLike(m, x, loc), x}, {}, loc);
    NodeId s = reduce(OpKind::ReduceSum, add(OpKind::Mul, {x, mb}, {}, loc),
                      args[1] ? &axis : nullptr, args[1] ? args[1]->loc : loc, loc);
    if (kind == OpKind::ReduceSum || s == kNoNode) return Value::tensor(s);
    NodeId cnt = reduce(OpKind::ReduceSum, mb, args[1] ? &axis : nullptr, loc, loc);
    NodeId safe = add(OpKind::Clamp, {cnt}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
    return Value::tensor(add(OpKind::Div, {s, safe}, {}, loc));
  }
  default: return evalNew(sig, c, args, prefix);
  }
  report(loc, desc + " cannot be used in an expression");
  return Value{};
}

/// The builtins for sequences, attention, experts, gradient flow and the newer
/// losses (see the file comment for their compositions).
Value GraphBuilder::evalNew(const BuiltinSig& sig, const CallExpr& c,
                            const std::vector<const Expr*>& args, const std::string& prefix) {
  const SourceLoc& loc = c.loc;
  std::string desc = std::string("'") + sig.name + "'";
  auto argWhat = [&](size_t i) {
    return sig.variadic ? "argument " + std::to_string(i + 1) + " of " + desc
                        : "argument '" + std::string(sig.params[i].name) + "' of " + desc;
  };
  auto tensorArg = [&](size_t i) { return tensorOf(eval(*args[i], prefix), *args[i], argWhat(i)); };
  auto numArg = [&](size_t i, double dflt, double& out) {
    out = dflt;
    return !args[i] || number(args[i], prefix, argWhat(i), out);
  };
  auto idsArg = [&](size_t i) -> InputInfo* {
    Value v = eval(*args[i], prefix);
    if (!v.ok()) return nullptr;
    if (v.kind != Value::Kind::Ids) {
      report(args[i]->loc, argWhat(i) + " must be an id input");
      return nullptr;
    }
    return v.input;
  };
  auto fail = [&](const std::string& msg) {
    report(loc, msg);
    return Value{};
  };
  auto str = [&](NodeId n) { return shapeOf(n).str(); };
  auto T = [](NodeId n) { return Value::tensor(n); };
  switch (sig.kind) {
  case BuiltinKind::Mask: {
    InputInfo* in = idsArg(0);
    if (!in) return Value{};
    return T(add(OpKind::Step, {scaleShift(idsOf(*in, loc), 1, 0.5, loc)}, {}, loc));
  }
  case BuiltinKind::OneHot: {
    InputInfo* in = idsArg(0);
    if (!in) return Value{};
    if (in->vocab > 4096)
      return fail("'one_hot' needs a small vocabulary (at most 4096 ids), but '" +
                  in->ident->name + "' has " + std::to_string(in->vocab));
    if (in->kind == FeatureKind::Categorical) return T(oneHot(*in, loc));
    return T(add(OpKind::OneHot, {idsOf(*in, loc)}, {{"depth", in->vocab}}, loc));
  }
  case BuiltinKind::MaskedMean:
  case BuiltinKind::MaskedSum: {
    NodeId x = tensorArg(0), m = tensorArg(1);
    if (x == kNoNode || m == kNoNode) return Value{};
    Shape xs = shapeOf(x), ms = shapeOf(m);
    if (xs.rank() < 3 || ms.rank() != 2 || xs[0] != ms[0] || xs[1] != ms[1])
      return fail(desc + " expects values [B,L,...] and a mask [B,L], got " + xs.str() +
                  " and " + ms.str());
    NodeId s = reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {x, maskLike(m, x, loc)}, {}, loc),
                          {1}, false, loc);
    if (sig.kind == BuiltinKind::MaskedSum) return T(s);
    NodeId n = reduceAxes(OpKind::ReduceSum, m, {1}, true, loc);
    NodeId safe = add(OpKind::Clamp, {n}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
    return T(add(OpKind::Div, {s, maskLike(safe, s, loc)}, {}, loc));
  }
  case BuiltinKind::Dot:
  case BuiltinKind::Cosine: {
    NodeId u = tensorArg(0), v = tensorArg(1);
    if (u == kNoNode || v == kNoNode) return Value{};
    if (sig.kind == BuiltinKind::Cosine) {
      u = add(OpKind::Mul, {u, rsqrt(reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {u, u}, {}, loc),
                                                {-1}, true, loc), 1e-12, loc)}, {}, loc);
      v = add(OpKind::Mul, {v, rsqrt(reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {v, v}, {}, loc),
                                                {-1}, true, loc), 1e-12, loc)}, {}, loc);
    }
    NodeId prod = add(OpKind::Mul, {u, v}, {}, loc);
    if (prod == kNoNode) return Value{};
    return T(reduceAxes(OpKind::ReduceSum, prod, {(int64_t)shapeOf(prod).rank() - 1}, true, loc));
  }
  case BuiltinKind::L2Normalize: {
    NodeId x = tensorArg(0);
    double eps;
    if (x == kNoNode || !numArg(1, 1e-12, eps)) return Value{};
    NodeId ss = reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {x, x}, {}, loc),
                           {(int64_t)shapeOf(x).rank() - 1}, true, loc);
    return T(add(OpKind::Mul, {x, rsqrt(ss, eps, loc)}, {}, loc));
  }
  case BuiltinKind::Softmax: return T(softmax(tensorArg(0), kNoNode, loc));
  case BuiltinKind::MaskedSoftmax: {
    NodeId x = tensorArg(0), m = tensorArg(1);
    if (x == kNoNode || m == kNoNode) return Value{};
    return T(softmax(x, m, loc));
  }
  case BuiltinKind::WeightedSum: {
    NodeId w = tensorArg(0), v = tensorArg(1);
    if (w == kNoNode || v == kNoNode) return Value{};
    Shape ws = shapeOf(w), vs = shapeOf(v);
    if (ws.rank() != 2 || vs.rank() < 2 || ws[0] != vs[0] || ws[1] != vs[1])
      return fail("'weighted_sum' expects weights [B,n] and values [B,n,...], got " + ws.str() +
                  " and " + vs.str());
    NodeId prod = add(OpKind::Mul, {v, maskLike(w, v, loc)}, {}, loc);
    return T(reduceAxes(OpKind::ReduceSum, prod, {1}, vs.rank() == 2, loc));
  }
  case BuiltinKind::RepeatLike: {
    NodeId x = tensorArg(0), like = tensorArg(1);
    if (x == kNoNode || like == kNoNode) return Value{};
    Shape xs = shapeOf(x), ls = shapeOf(like);
    std::vector<int64_t> dims = xs.dims;
    if (xs.rank() >= 1) dims.insert(dims.begin() + 1, 1);
    bool fits = xs.rank() + 1 == ls.rank();
    try {
      fits = fits && broadcastShapes(Shape(dims), ls, "repeat") == ls;
    } catch (const ShapeError&) {
      fits = false;
    }
    if (!fits)
      return fail("'repeat_like' repeats x [B,...] along axis 1 of like [B,L,...], got " +
                  xs.str() + " and " + ls.str());
    return T(add(OpKind::BroadcastLike, {reshape(x, dims, loc), like}, {}, loc));
  }
  case BuiltinKind::Stack: {
    std::vector<NodeId> xs;
    for (size_t i = 0; i < args.size(); ++i) xs.push_back(tensorArg(i));
    return T(stack(xs, loc));
  }
  case BuiltinKind::Take: {
    NodeId x = tensorArg(0);
    double i;
    if (x == kNoNode || !number(args[1], prefix, argWhat(1), i)) return Value{};
    Shape s = shapeOf(x);
    if (s.rank() < 2 || s[1] < 0 || i < 0 || i >= (double)s[1] || i != std::floor(i))
      return fail("'take' index " + std::to_string((int64_t)i) + " is out of range for axis 1 of " +
                  s.str());
    NodeId sl = add(OpKind::Slice, {x}, {{"axis", int64_t(1)}, {"start", (int64_t)i}, {"size", int64_t(1)}}, loc);
    if (s.rank() == 2) return T(sl);
    std::vector<int64_t> dims = s.dims;
    dims.erase(dims.begin() + 1);
    return T(reshape(sl, dims, loc));
  }
  case BuiltinKind::Squeeze: {
    NodeId x = tensorArg(0);
    if (x == kNoNode) return Value{};
    Shape s = shapeOf(x);
    if (s.rank() < 2 || s.dims.back() != 1)
      return fail("'squeeze' drops a last axis of extent 1, but the value has shape " + s.str());
    std::vector<int64_t> dims(s.dims.begin(), s.dims.end() - 1);
    return T(reshape(x, dims, loc));
  }
  case BuiltinKind::MatMul: {
    NodeId a = tensorArg(0), b = tensorArg(1);
    double tb;
    if (a == kNoNode || b == kNoNode || !numArg(2, 0, tb)) return Value{};
    OpKind k = shapeOf(a).rank() == 2 && shapeOf(b).rank() == 2 ? OpKind::MatMul : OpKind::BatchMatMul;
    return T(add(k, {a, b}, {{"transpose_a", int64_t(0)}, {"transpose_b", (int64_t)tb}}, loc));
  }
  case BuiltinKind::SplitHeads: {
    NodeId x = tensorArg(0);
    double h;
    if (x == kNoNode || !number(args[1], prefix, argWhat(1), h)) return Value{};
    Shape s = shapeOf(x);
    if (s.rank() != 3 || s[2] < 0 || s[2] % (int64_t)h != 0)
      return fail("'split_heads' expects [B,L,d] with d divisible by " +
                  std::to_string((int64_t)h) + " heads, got " + s.str());
    NodeId r = reshape(x, {s[0], s[1], (int64_t)h, s[2] / (int64_t)h}, loc);
    return T(add(OpKind::Transpose, {r}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}}, loc));
  }
  case BuiltinKind::MergeHeads: {
    NodeId x = tensorArg(0);
    if (x == kNoNode) return Value{};
    Shape s = shapeOf(x);
    if (s.rank() != 4 || s[1] < 0 || s[3] < 0)
      return fail("'merge_heads' expects [B,heads,L,d], got " + s.str());
    NodeId t = add(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}}, loc);
    return T(reshape(t, {s[0], s[2], s[1] * s[3]}, loc));
  }
  case BuiltinKind::CausalMask: {
    double n;
    if (!number(args[0], prefix, argWhat(0), n)) return Value{};
    return T(add(OpKind::CausalMask, {}, {{"size", (int64_t)n}}, loc));
  }
  case BuiltinKind::LayerNorm: {
    NodeId x = tensorArg(0);
    double eps;
    if (x == kNoNode || !numArg(1, 1e-8, eps)) return Value{};
    return T(layerNorm(x, eps, nextName(prefix, "layer_norm"), loc));
  }
  case BuiltinKind::BatchNorm: {
    NodeId x = tensorArg(0);
    double momentum, eps;
    if (x == kNoNode || !numArg(1, 0.99, momentum) || !numArg(2, 1e-3, eps)) return Value{};
    return T(batchNorm(x, momentum, eps, nextName(prefix, "batch_norm"), loc));
  }
  case BuiltinKind::Param: {
    std::vector<int64_t> shape;
    for (const auto& d : dynCast<ListExpr>(args[0])->items) {
      int64_t w;
      if (!width(d.get(), prefix, "an extent of 'param'", w)) return Value{};
      shape.push_back(w);
    }
    rt::InitSpec init{"uniform", 0.05};
    if (auto* n = dynCast<NameExpr>(args[1])) init = {n->name, 0.0};
    if (auto* ic = dynCast<CallExpr>(args[1]))
      init = {ic->callee, ic->args.empty() ? 0.0 : numConst(ic->args[0].value.get())};
    InputInfo* by = routeArg(args[2], prefix);
    if (args[2] && !by) return Value{};
    bool perRow;
    return T(weight(nextName(prefix, "param"), shape, init, loc, by, perRow));
  }
  case BuiltinKind::TopK: {
    if (mode_ == GraphMode::Train) {  // a serving output: not in the training graph
      Value v;
      v.kind = Value::Kind::Serving;
      return v;
    }
    NodeId q = tensorArg(0), items = tensorArg(1);
    double k;
    if (q == kNoNode || items == kNoNode || !number(args[2], prefix, argWhat(2), k)) return Value{};
    return T(add(OpKind::TopK, {q, items}, {{"k", (int64_t)k}}, loc));
  }
  case BuiltinKind::StopGradient: return T(add(OpKind::StopGradient, {tensorArg(0)}, {}, loc));
  case BuiltinKind::GradReverse: {
    NodeId x = tensorArg(0);
    double lambda;
    if (x == kNoNode || !number(args[1], prefix, argWhat(1), lambda)) return Value{};
    auto* sched = dynCast<NameExpr>(args[2]);
    NodeId coeff;
    if (sched && sched->name == "dann") {
      // DANN's ramp: lambda * (2 / (1 + exp(-10 p)) - 1), p = training progress.
      if (progress_ == kNoNode) progress_ = inputNode(ValueRole::Progress, "progress", {}, loc);
      NodeId s = add(OpKind::Sigmoid, {scaleShift(progress_, 10, 0, loc)}, {}, loc);
      coeff = scaleShift(s, 2 * lambda, -lambda, loc);
    } else {
      coeff = constant(lambda, loc);
    }
    return T(add(OpKind::GradReverse, {x, coeff}, {}, loc));
  }
  case BuiltinKind::TrainOnly: {
    const Expr* e = mode_ == GraphMode::Train ? args[0] : args[1];
    return eval(*e, prefix);
  }
  case BuiltinKind::InfoNce: {
    NodeId s = tensorArg(0);
    double pos, temp;
    if (s == kNoNode || !numArg(1, 0, pos) || !numArg(2, 1, temp)) return Value{};
    Shape sh = shapeOf(s);
    if (sh.rank() != 2 || !isBatchDim(sh[0]) || sh[1] < 2 || pos >= (double)sh[1])
      return fail("'info_nce' expects scores [B,N] (a group of N >= 2 candidates per row, the "
                  "positive at index " + std::to_string((int64_t)pos) + "), got " + str(s));
    NodeId z = scaleShift(s, 1 / temp, 0, loc);
    NodeId mx = reduceAxes(OpKind::ReduceMax, z, {1}, true, loc);
    NodeId e = add(OpKind::Exp, {add(OpKind::Sub, {z, mx}, {}, loc)}, {}, loc);
    NodeId lse = add(OpKind::Add, {add(OpKind::Log, {reduceAxes(OpKind::ReduceSum, e, {1}, true, loc)}, {}, loc), mx}, {}, loc);
    NodeId p = add(OpKind::Slice, {z}, {{"axis", int64_t(1)}, {"start", (int64_t)pos}, {"size", int64_t(1)}}, loc);
    NodeId per = add(OpKind::Sub, {lse, p}, {}, loc);
    return T(reduceAxes(OpKind::ReduceMean, per, {}, false, loc));
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
    std::vector<int64_t> shape = {in.batch, tb.dim};
    if (in.kind == FeatureKind::MultiCategorical) shape = {in.batch, in.len, tb.dim};
    in.rows = inputNode(ValueRole::EmbeddingRows, name, shape, c.loc);
    in.table = tname;
    in.embedLoc = c.loc;
    tb.used = true;
  }
  return Value::tensor(in.rows);
}

/// x [B,n] (or [B,L,...,n]: applied at every position) times w [n,units],
/// plus b. With `by` (or inside a block called with `by`), w and b are chosen
/// per row by the id: [B,n,units] and [B,units], applied as a batched matmul.
NodeId GraphBuilder::dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc,
                           InputInfo* by) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  if (s.rank() < 2 || !isBatchDim(s[0]) || s.dims.back() < 0) {
    report(loc, "'dense' expects an input of shape [B,n] or [B,...,n], got " + s.str());
    return kNoNode;
  }
  int64_t in = s.dims.back();
  bool rowW, rowB;
  NodeId w = weight(name + ".w", {in, units}, {"glorot_uniform", 0.0}, loc, by, rowW);
  NodeId b = weight(name + ".b", {units}, {"zeros", 0.0}, loc, by, rowB);
  if (w == kNoNode || b == kNoNode) return kNoNode;
  Attrs noT{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}};
  if (!rowW) {
    OpKind mm = s.rank() == 2 ? OpKind::MatMul : OpKind::BatchMatMul;
    return add(OpKind::Add, {add(mm, {x, w}, noT, loc), b}, {}, loc);
  }
  // Per-row weights: [B,1,n] x [B,n,units] for [B,n]; [B,L,n] x [B,n,units] for rank 3.
  if (s.rank() > 3) {
    report(loc, "'dense' with per-id weights ('by') expects [B,n] or [B,L,n], got " + s.str());
    return kNoNode;
  }
  NodeId xr = s.rank() == 2 ? reshape(x, {s[0], 1, in}, loc) : x;
  NodeId y = add(OpKind::BatchMatMul, {xr, w}, noT, loc);
  if (s.rank() == 2) return add(OpKind::Add, {reshape(y, {s[0], units}, loc), b}, {}, loc);
  return add(OpKind::Add, {y, reshape(b, {s[0], 1, units}, loc)}, {}, loc);
}

/// The `by` argument of a layer: an id input (its one-hot selects the rows).
InputInfo* GraphBuilder::routeArg(const Expr* e, const std::string& prefix) {
  if (!e) return nullptr;
  Value v = eval(*e, prefix);
  if (!v.ok()) return nullptr;
  if (v.kind != Value::Kind::Ids || v.input->kind != FeatureKind::Categorical) {
    report(e->loc, "'by' must be a single-valued id input (id(V)), e.g. by = scenario");
    return nullptr;
  }
  constexpr int64_t kMaxRoutes = 4096;
  if (v.input->vocab > kMaxRoutes) {
    report(e->loc, "'by' selects one set of parameters per id, so it needs a small vocabulary "
                   "(at most " + std::to_string(kMaxRoutes) + " ids), but '" +
                       v.input->ident->name + "' has " + std::to_string(v.input->vocab) +
                       "; per-id parameters of a large vocabulary belong in a table");
    return nullptr;
  }
  return v.input;
}

/// The raw ids of an id input as a feature ([B,1] or [B,L]; padding is -1).
NodeId GraphBuilder::idsOf(InputInfo& in, const SourceLoc& loc) {
  if (in.ids != kNoNode) return in.ids;
  int64_t w = in.kind == FeatureKind::MultiCategorical ? in.len : 1;
  in.ids = inputNode(ValueRole::Feature, in.ident->name, {in.batch, w}, loc);
  return in.ids;
}

/// one_hot of a single-valued id input: [B,V].
NodeId GraphBuilder::oneHot(InputInfo& in, const SourceLoc& loc) {
  if (in.oneHot != kNoNode) return in.oneHot;
  NodeId ids = idsOf(in, loc);
  NodeId oh = add(OpKind::OneHot, {ids}, {{"depth", in.vocab}}, loc);
  in.oneHot = reshape(oh, {in.batch, in.vocab}, loc);
  return in.oneHot;
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

/// Mean binary cross-entropy, on probabilities (clamped) or on logits, or mean
/// squared error; `mask` restricts the mean to the rows where it is 1.
NodeId GraphBuilder::bce(const Value& pv, const Value& yv, const Value* weight, bool logits,
                         const SourceLoc& loc, const char* name, NodeId mask, bool mse) {
  NodeId p = pv.node, y = yv.node;
  if (shapeOf(p) != shapeOf(y)) {
    std::string what = logits ? "logits" : "a prediction";
    report(loc, std::string("'") + name + "' expects " + what + " and a label of the same shape, got " +
                    shapeOf(p).str() + " and " + shapeOf(y).str());
    return kNoNode;
  }
  NodeId perRow;  // per-row loss (logits, mse) or log-likelihood (probabilities)
  if (mse) {
    NodeId d = add(OpKind::Sub, {p, y}, {}, loc);
    perRow = add(OpKind::Mul, {d, d}, {}, loc);
  } else if (logits) {
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
  double scale = logits || mse ? 1 : -1;
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
  if (mask != kNoNode && perRow != kNoNode && shapeOf(mask) != shapeOf(perRow)) {
    report(loc, std::string("the mask ('where') of '") + name + "' has shape " +
                    shapeOf(mask).str() + ", but the per-row loss has shape " +
                    shapeOf(perRow).str());
    return kNoNode;
  }
  NodeId mean = mask != kNoNode ? maskedMean(perRow, mask, loc)
                                : add(OpKind::ReduceMean, {perRow},
                                      {{"axes", std::vector<int64_t>{}}, {"keepdims", int64_t(0)}}, loc);
  return scaleShift(mean, scale, 0, loc);
}

/// sum(x * mask) / max(sum(mask), 1) over all axes: a scalar.
NodeId GraphBuilder::maskedMean(NodeId x, NodeId mask, const SourceLoc& loc) {
  NodeId s = reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {x, mask}, {}, loc), {}, false, loc);
  NodeId n = reduceAxes(OpKind::ReduceSum, mask, {}, false, loc);
  NodeId safe = add(OpKind::Clamp, {n}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
  return add(OpKind::Div, {s, safe}, {}, loc);
}

/// `mask` with unit axes appended so that it lines up with x from the left
/// ([B,L] against [B,L,d] gives [B,L,1]); a key mask [B,L] against scores
/// [B,h,T,L] gets its unit axes in the middle ([B,1,1,L]).
NodeId GraphBuilder::maskLike(NodeId mask, NodeId x, const SourceLoc& loc) {
  if (mask == kNoNode || x == kNoNode) return kNoNode;
  Shape m = shapeOf(mask), s = shapeOf(x);
  if (m.rank() >= s.rank()) return mask;
  std::vector<int64_t> dims = m.dims;
  if (m.rank() == 2 && s.rank() > 2 && m[1] == s.dims.back() && m[1] != s[1])
    dims.insert(dims.begin() + 1, s.rank() - 2, 1);  // a key mask
  else
    dims.insert(dims.end(), s.rank() - m.rank(), 1);
  return reshape(mask, dims, loc);
}

/// Softmax along the last axis; with a mask (1 = keep), masked entries get
/// weight 0 and a row with no entry left gets all zeros (not NaN).
NodeId GraphBuilder::softmax(NodeId x, NodeId mask, const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  int64_t last = (int64_t)shapeOf(x).rank() - 1;
  if (last < 0) {
    report(loc, "'softmax' needs a value with at least one axis, got []");
    return kNoNode;
  }
  NodeId m = kNoNode;
  if (mask != kNoNode) {
    m = maskLike(mask, x, loc);
    // x*m + (m - 1)*1e9: masked entries far below every kept one.
    x = add(OpKind::Add, {add(OpKind::Mul, {x, m}, {}, loc), scaleShift(m, 1e9, -1e9, loc)}, {}, loc);
  }
  NodeId mx = reduceAxes(OpKind::ReduceMax, x, {last}, true, loc);
  NodeId e = add(OpKind::Exp, {add(OpKind::Sub, {x, mx}, {}, loc)}, {}, loc);
  if (m != kNoNode) e = add(OpKind::Mul, {e, m}, {}, loc);
  NodeId s = reduceAxes(OpKind::ReduceSum, e, {last}, true, loc);
  if (m != kNoNode) s = add(OpKind::Clamp, {s}, {{"lo", 1e-30}, {"hi", 1e30}}, loc);
  return add(OpKind::Div, {e, s}, {}, loc);
}

/// [B,...] values of one shape stacked along axis 1: [B,n,...]; [B,1]
/// values (scalar scores) stack to [B,n].
NodeId GraphBuilder::stack(const std::vector<NodeId>& xs, const SourceLoc& loc) {
  for (NodeId x : xs)
    if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(xs[0]);
  for (NodeId x : xs)
    if (shapeOf(x) != s || s.rank() < 2 || !isBatchDim(s[0])) {
      report(loc, "'stack' needs values of one shape [B,...], got " + s.str() + " and " +
                      shapeOf(x).str());
      return kNoNode;
    }
  if (xs.size() == 1 && s == Shape{s[0], 1}) return xs[0];
  std::vector<NodeId> parts;
  bool scores = s.rank() == 2 && s[1] == 1;
  for (NodeId x : xs) {
    std::vector<int64_t> dims = s.dims;
    if (!scores) dims.insert(dims.begin() + 1, 1);
    parts.push_back(reshape(x, dims, loc));
  }
  if (parts.size() == 1) return parts[0];
  return add(OpKind::Concat, parts, {{"axis", int64_t(1)}}, loc);
}

/// Layer norm over the last axis with a learned gain (ones) and bias (zeros).
NodeId GraphBuilder::layerNorm(NodeId x, double eps, const std::string& name, const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  int64_t last = (int64_t)s.rank() - 1;
  if (last < 1 || s.dims.back() < 0) {
    report(loc, "'layer_norm' expects a value of shape [B,...,d], got " + s.str());
    return kNoNode;
  }
  int64_t d = s.dims.back();
  NodeId mu = reduceAxes(OpKind::ReduceMean, x, {last}, true, loc);
  NodeId xc = add(OpKind::Sub, {x, mu}, {}, loc);
  NodeId var = reduceAxes(OpKind::ReduceMean, add(OpKind::Mul, {xc, xc}, {}, loc), {last}, true, loc);
  NodeId y = add(OpKind::Mul, {xc, rsqrt(var, eps, loc)}, {}, loc);
  bool rowG, rowB;
  NodeId gain = weight(name + ".gamma", {d}, {"ones", 0.0}, loc, nullptr, rowG);
  NodeId bias = weight(name + ".beta", {d}, {"zeros", 0.0}, loc, nullptr, rowB);
  if (rowG && s.rank() > 2) {
    std::vector<int64_t> dims(s.rank(), 1);
    dims[0] = s[0];
    dims.back() = d;
    gain = reshape(gain, dims, loc);
    bias = reshape(bias, dims, loc);
  }
  return add(OpKind::Add, {add(OpKind::Mul, {y, gain}, {}, loc), bias}, {}, loc);
}

/// Batch norm of [B,n]: batch statistics when training (and running
/// statistics updated as m*run + (1-m)*batch), running statistics in eval.
NodeId GraphBuilder::batchNorm(NodeId x, double momentum, double eps, const std::string& name,
                               const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  if (s.rank() != 2 || !isBatchDim(s[0]) || s[1] < 0) {
    report(loc, "'batch_norm' expects a value of shape [B,n], got " + s.str());
    return kNoNode;
  }
  int64_t d = s[1];
  NodeId runMean = stateInput(name + ".mean", {d}, {{"momentum", momentum}}, loc);
  NodeId runVar = stateInput(name + ".var", {d}, {{"momentum", momentum}}, loc);
  NodeId mean = runMean, var = runVar;
  if (mode_ == GraphMode::Train) {
    mean = reduceAxes(OpKind::ReduceMean, x, {0}, false, loc);
    NodeId c = add(OpKind::Sub, {x, mean}, {}, loc);
    var = reduceAxes(OpKind::ReduceMean, add(OpKind::Mul, {c, c}, {}, loc), {0}, false, loc);
    for (auto [run, batch, suffix] : {std::tuple{runMean, mean, ".mean"}, {runVar, var, ".var"}}) {
      NodeId next = add(OpKind::Add, {scaleShift(run, momentum, 0, loc),
                                      scaleShift(batch, 1 - momentum, 0, loc)}, {}, loc);
      if (next != kNoNode) g_.addOutput(next, ValueRole::StateUpdate, name + suffix);
    }
  }
  NodeId y = add(OpKind::Mul, {add(OpKind::Sub, {x, mean}, {}, loc), rsqrt(var, eps, loc)}, {}, loc);
  bool rowG, rowB;
  NodeId gain = weight(name + ".gamma", {d}, {"ones", 0.0}, loc, nullptr, rowG);
  NodeId bias = weight(name + ".beta", {d}, {"zeros", 0.0}, loc, nullptr, rowB);
  return add(OpKind::Add, {add(OpKind::Mul, {y, gain}, {}, loc), bias}, {}, loc);
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
  markFrozen();
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
      if (it->second.kind == Value::Kind::Serving) continue;  // serving graph only
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
    if (v.kind == Value::Kind::Serving) {
      report(stmt->value->loc, "loss '" + name + "' is a serving-only value (top_k)");
      continue;
    }
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

/// `freeze = [...]`: marks the frozen parameters (a value's name freezes every
/// parameter under it) and the embedding rows of frozen tables (frozen=1), so
/// that Autodiff builds no gradient for them.
void GraphBuilder::markFrozen() {
  for (const std::string& f : stage_.frozen) {
    bool any = false;
    for (const Binding& b : g_.inputs()) {
      bool hit = false;
      if (b.role == ValueRole::Param) hit = b.name == f || b.name.rfind(f + ".", 0) == 0;
      if (b.role == ValueRole::EmbeddingRows) hit = inputs_.at(b.name).table == f;
      if (hit) g_.node(b.node).attrs.set("frozen", int64_t(1));
      any |= hit;
    }
    if (!any && !tables_.count(f))
      report(model_.name.loc, "'freeze' lists '" + f + "', but no parameter of the model is "
                              "named after it");
  }
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
        if (auto* n = dynCast<NameExpr>(st.value.get()); n && key == "init") {
          stage_.initFrom = n->name;
          stage_.initLoc = st.value->loc;
        }
        if (auto* l = dynCast<ListExpr>(st.value.get()); l && key == "freeze")
          for (const auto& item : l->items)
            if (auto* n = dynCast<NameExpr>(item.get())) stage_.frozen.push_back(n->name);
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
