// BuildBuiltins: evaluation of the language's builtin calls (dense, mlp, bce,
// attention, experts, ...) into primitive ops; see BuildGraph.cpp's header.
#include "compiler/passes/GraphBuilder.h"

namespace recc::buildgraph {

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
  case BuiltinKind::Max: {
    NodeId x = tensorArg(0);
    double axis = 0;
    if (args[1] && !number(args[1], prefix, "'axis'", axis)) return Value{};
    return Value::tensor(reduce(OpKind::ReduceMax, x, args[1] ? &axis : nullptr,
                                args[1] ? args[1]->loc : loc, loc));
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
    if (ls.rank() == 2 && xs.rank() >= 2 && xs[0] == ls[0]) {
      // like [B,L] (a mask, one score per candidate) only gives the count:
      // x times ones [B,L,1,...], so that any x [B,...] repeats L times.
      std::vector<int64_t> ones(xs.rank() + 1, 1);
      ones[0] = ls[0];
      ones[1] = ls[1];
      NodeId one = scaleShift(reshape(like, ones, loc), 0, 1, loc);
      return T(add(OpKind::Mul, {reshape(x, dims, loc), one}, {}, loc));
    }
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
    InputInfo* by = routeArg(args[3], prefix);
    if (args[3] && !by) return Value{};
    return T(batchNorm(x, momentum, eps, nextName(prefix, "batch_norm"), loc, by));
  }
  case BuiltinKind::RunningMean: {
    NodeId x = tensorArg(0);
    NodeId m = args[2] ? tensorArg(2) : kNoNode;
    double decay;
    if (x == kNoNode || (args[2] && m == kNoNode) || !numArg(1, 0.9, decay)) return Value{};
    return T(runningMean(x, decay, m, nextName(prefix, "running_mean"), loc));
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
    // Cross-stitch units start as the identity (each column keeps its own
    // task); per-id parameters get one identity per id.
    size_t r = shape.size();
    if (init.kind == "identity" && (r < 2 || shape[r - 1] != shape[r - 2]))
      return fail("'identity' needs a square parameter (its last two extents equal), but the "
                  "shape is " + Shape(shape).str());
    InputInfo* by = routeArg(args[2], prefix);
    if (args[2] && !by) return Value{};
    bool perRow;
    return T(weight(nextName(prefix, "param"), shape, init, loc, by, perRow));
  }
  case BuiltinKind::TopK: {
    double k;
    if (mode_ == GraphMode::Train) {  // a serving output: not in the training graph
      if (!number(args[2], prefix, argWhat(2), k)) return Value{};
      Value v;
      v.kind = Value::Kind::Serving;
      v.number = k;  // its width, for the ranking metrics' 'k'
      return v;
    }
    NodeId q = tensorArg(0), items = tensorArg(1);
    if (q == kNoNode || items == kNoNode || !number(args[2], prefix, argWhat(2), k)) return Value{};
    return T(add(OpKind::TopK, {q, items}, {{"k", (int64_t)k}}, loc));
  }
  case BuiltinKind::GroupSum: {
    // Each row gets the sum of x over the batch rows with its id (O(B·|row|));
    // a number x is a column of that number: group_sum(1, by = c) counts rows.
    Value xv = eval(*args[0], prefix);
    Value bv = eval(*args[1], prefix);
    if (!xv.ok() || !bv.ok()) return Value{};
    if (bv.kind != Value::Kind::Ids || bv.input->kind != FeatureKind::Categorical) {
      report(args[1]->loc, "'by' of 'group_sum' must be a single-valued id input (id(V)), "
                           "e.g. by = cate_id");
      return Value{};
    }
    InputInfo& in = *bv.input;
    NodeId ids = idsOf(in, loc);
    NodeId x = xv.kind == Value::Kind::Number ? scaleShift(ids, 0, xv.number, loc)
                                              : tensorOf(xv, *args[0], argWhat(0));
    if (x == kNoNode || ids == kNoNode) return Value{};
    Shape xs = shapeOf(x);
    if (xs.rank() < 1 || !isBatchDim(xs[0])) {
      report(args[0]->loc, "'group_sum' sums over the batch rows of a value of shape [B,...], "
                           "got " + xs.str());
      return Value{};
    }
    if (xs[0] != in.batch) {
      report(args[1]->loc, "'group_sum' groups the rows of a value of shape " + xs.str() +
                               " by '" + in.ident->name + "', an id input of another stream (" +
                               shapeOf(ids).str() + "); group by an id input of its stream");
      return Value{};
    }
    return T(add(OpKind::GroupSum, {x, ids}, {}, loc));
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

} // namespace recc::buildgraph
