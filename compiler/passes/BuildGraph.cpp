// BuildGraph: AST -> Graph + ModelPlan (see BuildGraph.h for the algorithm and
// the parameter naming rule): evaluation of expressions, names and block
// calls, and the node helpers every builtin builds with. A builtin call is
// built by its record (compiler/passes/builtins/, one file per family, each
// with the compositions of primitive ops it makes); the pass driver is
// BuildDriver.cpp. Arithmetic on tensors and numbers:
//   1 - x, 2 * x     scale_shift(x, -1, 1), scale_shift(x, 2, 0)
#include "compiler/passes/GraphBuilder.h"

#include "compiler/passes/builtins/Families.h"
#include "runtime/CheckedMath.h"

namespace recc::buildgraph {

// The builtin records are defined in this library (compiler/passes/builtins/)
// and Sema finds them through the dsl's registry, so they are registered
// before main: this file is linked into every program that builds graphs.
[[maybe_unused]] static const bool kBuiltinsRegistered =
    (builtins::registerLanguageBuiltins(), true);

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
  if (!fitsAnyBatch(g_.node(id).shape)) {
    report(loc, "a value of shape " + g_.node(id).shape.str() + " (" + std::string(opName(kind)) +
                    ") is too large: its size in bytes, with gradient and optimizer state, "
                    "overflows 64 bits at batch size " + std::to_string(kMaxWidth));
    return kNoNode;
  }
  return id;
}

/// Whether a value of `shape` has a byte size, with room for its gradient and
/// two optimizer slots, that 64-bit arithmetic can count at every batch size
/// the language allows: then no later count of it (summary, memory check,
/// buffers, checkpoint offsets) can wrap around.
bool GraphBuilder::fitsAnyBatch(const Shape& shape) {
  std::vector<int64_t> dims = shape.dims;
  for (int64_t& d : dims)
    if (isBatchDim(d)) d = kMaxWidth;
  return rt::checkedMulAdd(rt::checkedProduct(dims), 4 * 4, 0).has_value();
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
    return stateInput({name + ".ema", "ema", shape, name, false, mode.decay},
                      {{"ema_of", name}, {"decay", mode.decay}}, loc);
  }
  if (!paramNames_.insert(name).second) {
    report(loc, "parameter name '" + name +
                    "' is produced twice; rename one of the values that create it");
    return kNoNode;
  }
  if (!fitsAnyBatch(Shape(shape))) {
    report(loc, "parameter '" + name + "' " + Shape(shape).str() +
                    " is too large: its size in bytes, with gradient and optimizer state, "
                    "overflows 64 bits");
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

/// A State input (running statistics, EMA shadows), created once per name and
/// listed in the plan's states.
NodeId GraphBuilder::stateInput(rt::StateSpec spec, Attrs extra, const SourceLoc& loc) {
  const std::string name = spec.name;
  if (auto it = stateNodes_.find(name); it != stateNodes_.end()) return it->second;
  extra.set("role", std::string(roleName(ValueRole::State)));
  extra.set("shape", spec.shape);
  NodeId id = add(OpKind::Input, {}, std::move(extra), loc);
  if (id == kNoNode) return id;
  g_.node(id).name = name;
  g_.addInput(id, ValueRole::State, name);
  stateNodes_[name] = id;
  plan_.states.push_back(std::move(spec));
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
  // The product fits: the parameter [vocab, shape...] passed fitsAnyBatch.
  int64_t n = rt::checkedProduct(shape).value();
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

NodeId GraphBuilder::progress(const SourceLoc& loc) {
  if (progress_ == kNoNode) progress_ = inputNode(ValueRole::Progress, "progress", {}, loc);
  return progress_;
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
    std::vector<const Expr*> mods;
    std::vector<Value> args;
    if (!evalBlockArgs(c, b, prefix, 0, mods, args)) return Value{};
    std::string instance = wholeStatement ? prefix : nextName(prefix, b.name.name);
    ParamMode mode;
    if (!blockMode(mods, prefix, instance, mode)) return Value{};
    return instantiate(b, std::move(args), instance, c.loc, mode);
  }
  if (const BuiltinRecord* record = findBuiltin(c.callee, BuiltinContext::Expr))
    return evalBuiltin(*record, c, prefix);
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
/// Binds a block call's arguments to the block's parameters (the first
/// `skip` positional arguments of `c` are the callee's own) and evaluates
/// them; keyword modifiers go to `mods`. False after reporting an error.
bool GraphBuilder::evalBlockArgs(const CallExpr& c, const BlockDecl& b, const std::string& prefix,
                                 size_t skip, std::vector<const Expr*>& mods,
                                 std::vector<Value>& args) {
  std::vector<std::string> params;
  for (const auto& p : b.params) params.push_back(p.name);
  std::vector<const Expr*> argExprs;
  if (!bindBlockArgs(c, b.name.name, params, argExprs, mods, diag_, skip)) {
    failed_ = true;
    return false;
  }
  for (const Expr* a : argExprs) args.push_back(eval(*a, prefix));
  for (const Value& v : args)
    if (!v.ok()) return false;
  return true;
}

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
  std::vector<const Expr*> mods;
  std::vector<Value> args;
  if (!evalBlockArgs(c, b, prefix, 2, mods, args)) return Value{};
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
} // namespace recc::buildgraph

namespace recc {

using namespace ast;
using buildgraph::GraphBuilder;

std::optional<BuiltModel> buildGraph(const Program& prog, const std::string& modelName,
                                     GraphMode mode, DiagnosticEngine& diag) {
  DiagnosticEngine sema;
  if (!checkProgram(prog, sema)) {
    for (const Diagnostic& d : sema.diagnostics()) {
      if (d.severity == Severity::Error) diag.error(d.loc, d.message);
      else if (d.severity == Severity::Note) diag.note(d.loc, d.message);
      else diag.warning(d.loc, d.message);
    }
    return std::nullopt;
  }
  return buildCheckedGraph(prog, modelName, mode, diag);
}

std::optional<BuiltModel> buildCheckedGraph(const Program& prog, const std::string& modelName,
                                            GraphMode mode, DiagnosticEngine& diag) {
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
