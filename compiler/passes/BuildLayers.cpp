// BuildLayers: the compositions of primitive ops behind the builtins —
// embeddings, dense layers, losses, masks, softmax, normalizations, reductions.
#include "compiler/passes/GraphBuilder.h"

namespace recc::buildgraph {

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
  std::vector<int64_t> shape = {in.batch, tb.dim};
  if (in.kind == FeatureKind::MultiCategorical) shape = {in.batch, in.len, tb.dim};
  if (in.words > 0) shape = {in.batch, in.len, in.words, tb.dim};
  if (in.table.empty()) {
    in.table = tname;
    in.embedLoc = c.loc;
    tb.used = true;
  }
  const ParamMode& mode = frames_.back()->mode;
  NodeId rows;
  if (mode.ema) {
    rows = emaRows(c, in, tb, shape, mode.decay);
  } else {
    if (in.rows == kNoNode) in.rows = inputNode(ValueRole::EmbeddingRows, name, shape, c.loc);
    rows = in.rows;
  }
  return Value::tensor(in.words > 0 ? poolWords(rows, in, c.loc) : rows);
}

/// A bag of words per position ([B,L,W,d] rows, padding rows zero) pooled to
/// [B,L,d] by its masked mean: sum over W / max(words present, 1), so an
/// empty bag gives zeros (ZEUS's word segments, zeus.md D1-D2).
NodeId GraphBuilder::poolWords(NodeId rows, InputInfo& in, const SourceLoc& loc) {
  if (rows == kNoNode) return kNoNode;
  NodeId present = add(OpKind::Step, {scaleShift(idsOf(in, loc), 1, 0.5, loc)}, {}, loc);
  NodeId n = reduceAxes(OpKind::ReduceSum, present, {2}, true, loc);
  NodeId safe = add(OpKind::Clamp, {n}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
  NodeId sum = reduceAxes(OpKind::ReduceSum, rows, {2}, false, loc);
  return add(OpKind::Div, {sum, safe}, {}, loc);
}

/// Inside a block call with `ema = v`, embeddings read the table's EMA shadow:
/// a state table `<table>.ema` (in the plan's states) whose rows for `in` are
/// gathered into the state input `<table>.ema[<ids>]`. DAMCAR's teacher is an
/// EMA of the whole student, embeddings included (damcar.md 2.4).
NodeId GraphBuilder::emaRows(const CallExpr& c, InputInfo& in, TableInfo& tb,
                             const std::vector<int64_t>& shape, double decay) {
  const std::string& tname = tb.decl->name.name;
  if (tb.dynamic) {
    report(c.loc, "table '" + tname + "' is dynamic (its rows are allocated when first "
                  "touched), and a dynamic table has no EMA shadow; declare it 'dense' to "
                  "shadow it", {{tb.decl->loc, "declared here"}});
    return kNoNode;
  }
  if (tb.emaDecay >= 0 && tb.emaDecay != decay) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g, but this call asks for %g", tb.emaDecay, decay);
    report(c.loc, "table '" + tname + "' already has an EMA shadow with decay " + buf +
                      "; every call that shadows a table must use the same decay",
           {{tb.emaLoc, "first shadowed here"}});
    return kNoNode;
  }
  if (tb.emaDecay < 0) {
    tb.emaDecay = decay;
    tb.emaLoc = c.loc;
    plan_.states.push_back({tname + ".ema", "ema", {tb.rows, tb.dim}, tname, true, decay});
  }
  if (in.emaRows != kNoNode) return in.emaRows;
  std::string name = tname + ".ema[" + in.ident->name + "]";
  NodeId id = add(OpKind::Input, {},
                  {{"role", std::string(roleName(ValueRole::State))}, {"shape", shape},
                   {"ema_of", tname}, {"decay", decay}, {"ids", in.ident->name}},
                  c.loc);
  if (id == kNoNode) return id;
  g_.node(id).name = name;
  g_.addInput(id, ValueRole::State, name);
  in.emaRows = id;
  return id;
}

/// x [B,n] (or [B,L,...,n]: applied at every position) times w [n,units],
/// plus b. With `by` (or inside a block called with `by`), w and b are chosen
/// per row by the id: for x [B,n], w [V,n,units] is applied by gather_matmul
/// (each row times its id's matrix); for [B,L,n], the rows' matrices are
/// gathered into [B,n,units] and applied as a batched matmul.
NodeId GraphBuilder::dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc,
                           InputInfo* by) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  if (s.rank() < 2 || !isBatchDim(s[0]) || s.dims.back() < 0) {
    report(loc, "'dense' expects an input of shape [B,n] or [B,...,n], got " + s.str());
    return kNoNode;
  }
  int64_t in = s.dims.back();
  InputInfo* route = by ? by : frames_.back()->mode.by;
  if (route && s.rank() == 2) return routedDense(x, in, units, name, loc, *route);
  bool rowW, rowB;
  NodeId w = weight(name + ".w", {in, units}, {"glorot_uniform", 0.0}, loc, by, rowW);
  NodeId b = weight(name + ".b", {units}, {"zeros", 0.0}, loc, by, rowB);
  if (w == kNoNode || b == kNoNode) return kNoNode;
  Attrs noT{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}};
  if (!rowW) {
    if (NodeId y = s.rank() == 3 ? factoredDense(x, w, loc) : kNoNode; y != kNoNode)
      return add(OpKind::Add, {y, b}, {}, loc);
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

/// dense on [B,n] with one [n,units] matrix and one bias per id of `by`:
/// gather_matmul(x, w [V,n,units], ids) + the rows' biases.
NodeId GraphBuilder::routedDense(NodeId x, int64_t in, int64_t units, const std::string& name,
                                 const SourceLoc& loc, InputInfo& by) {
  NodeId w = param(name + ".w", {by.vocab, in, units}, {"glorot_uniform", 0.0}, loc);
  bool rowB;
  NodeId b = weight(name + ".b", {units}, {"zeros", 0.0}, loc, &by, rowB);
  NodeId ids = idsOf(by, loc);
  if (w == kNoNode || b == kNoNode || ids == kNoNode) return kNoNode;
  return add(OpKind::Add, {add(OpKind::GatherMatMul, {x, w, ids}, {}, loc), b}, {}, loc);
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
  std::vector<int64_t> shape = {in.batch, w};
  if (in.words > 0) shape.push_back(in.words);
  in.ids = inputNode(ValueRole::Feature, in.ident->name, shape, loc);
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
  // A batched x's mask is indexed by its rows' places in the global batch, so
  // that each process under mpirun draws its slice of one process's mask.
  const std::vector<int64_t>& dims = shapeOf(x).dims;
  auto axis = std::find_if(dims.begin(), dims.end(), isBatchDim);
  if (axis == dims.end())
    return add(OpKind::Dropout, {x, seed_}, {{"p", p}, {"salt", ++salt_}}, loc);
  const int stream = static_cast<int>(-1 - *axis);
  return add(OpKind::Dropout, {x, seed_, batchSlice(stream)},
             {{"p", p}, {"salt", ++salt_}, {"batch_axis", int64_t(axis - dims.begin())}}, loc);
}

NodeId GraphBuilder::batchSlice(int stream) {
  auto it = batchSlices_.find(stream);
  if (it != batchSlices_.end()) return it->second;
  const std::string name = stream == 0 ? "batch_slice" : "batch_slice." + std::to_string(stream);
  return batchSlices_[stream] = inputNode(ValueRole::BatchSlice, name, {2}, model_.name.loc);
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
/// With `by` (or inside a block called with `by`), every id has its own
/// statistics: running mean and variance [V,n], batch statistics over the
/// rows of that id (SAR-Net's routed experts); see batchNormById.
NodeId GraphBuilder::batchNorm(NodeId x, double momentum, double eps, const std::string& name,
                               const SourceLoc& loc, InputInfo* by) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  if (s.rank() != 2 || !isBatchDim(s[0]) || s[1] < 0) {
    report(loc, "'batch_norm' expects a value of shape [B,n], got " + s.str());
    return kNoNode;
  }
  if (!by) by = frames_.back()->mode.by;
  int64_t d = s[1];
  // Running statistics: [n], or [V,n] per id.
  std::vector<int64_t> stat = by ? std::vector<int64_t>{by->vocab, d} : std::vector<int64_t>{d};
  NodeId runMean = stateInput({name + ".mean", "running_stat", stat, "", false, momentum},
                              {{"momentum", momentum}}, loc);
  NodeId runVar = stateInput({name + ".var", "running_stat", stat, "", false, momentum,
                              {"ones", 0.0}}, {{"momentum", momentum}}, loc);
  NodeId oh = by ? oneHot(*by, loc) : kNoNode;
  if (by && oh == kNoNode) return kNoNode;
  Attrs noT{{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}};
  Attrs tA{{"transpose_a", int64_t(1)}, {"transpose_b", int64_t(0)}};
  // The statistics of each row: its id's ([V,n] gathered by the one-hot).
  auto perRow = [&](NodeId stats) {
    return by ? add(OpKind::MatMul, {oh, stats}, noT, loc) : stats;
  };
  NodeId mean = runMean, var = runVar;
  if (mode_ == GraphMode::Train) {
    if (!by) {
      mean = reduceAxes(OpKind::ReduceMean, x, {0}, false, loc);
      NodeId c = add(OpKind::Sub, {x, mean}, {}, loc);
      var = reduceAxes(OpKind::ReduceMean, add(OpKind::Mul, {c, c}, {}, loc), {0}, false, loc);
    } else {
      // Per id: sums over its rows (ohᵀ·x) over its row count. An id with
      // fewer than 2 rows in the batch has no usable variance: it keeps its
      // running statistics, and they are not updated (sarnet.md 7.14).
      NodeId cnt = reshape(reduceAxes(OpKind::ReduceSum, oh, {0}, false, loc), {by->vocab, 1}, loc);
      NodeId safe = add(OpKind::Clamp, {cnt}, {{"lo", 1.0}, {"hi", 1e30}}, loc);
      NodeId seen = add(OpKind::Step, {scaleShift(cnt, 1, -1.5, loc)}, {}, loc);
      auto select = [&](NodeId batch, NodeId run) {  // run + seen·(batch - run)
        return add(OpKind::Add, {run, add(OpKind::Mul, {seen, add(OpKind::Sub, {batch, run}, {}, loc)},
                                          {}, loc)}, {}, loc);
      };
      NodeId bMean = add(OpKind::Div, {add(OpKind::MatMul, {oh, x}, tA, loc), safe}, {}, loc);
      mean = select(bMean, runMean);
      NodeId c = add(OpKind::Sub, {x, perRow(mean)}, {}, loc);
      NodeId bVar = add(OpKind::Div, {add(OpKind::MatMul, {oh, add(OpKind::Mul, {c, c}, {}, loc)},
                                          tA, loc), safe}, {}, loc);
      var = select(bVar, runVar);
    }
    // m·run + (1-m)·batch; per id, `mean` and `var` already equal the
    // running values where an id was not seen, so those stay unchanged.
    for (auto [run, batch, suffix] : {std::tuple{runMean, mean, ".mean"}, {runVar, var, ".var"}}) {
      NodeId next = add(OpKind::Add, {scaleShift(run, momentum, 0, loc),
                                      scaleShift(batch, 1 - momentum, 0, loc)}, {}, loc);
      if (next != kNoNode) g_.addOutput(next, ValueRole::StateUpdate, name + suffix);
    }
  }
  NodeId y = add(OpKind::Mul, {add(OpKind::Sub, {x, perRow(mean)}, {}, loc),
                               rsqrt(perRow(var), eps, loc)}, {}, loc);
  bool rowG, rowB;
  NodeId gain = weight(name + ".gamma", {d}, {"ones", 0.0}, loc, by, rowG);
  NodeId bias = weight(name + ".beta", {d}, {"zeros", 0.0}, loc, by, rowB);
  return add(OpKind::Add, {add(OpKind::Mul, {y, gain}, {}, loc), bias}, {}, loc);
}

/// running_mean(x, decay, where = m): a [1,...] model state c, the running
/// mean of the rows of x [B,...] (with m, of the rows where m = 1). Both
/// graphs read c as it was before this step, so no gradient reaches x through
/// it: ESAM's class centres (and the centre loss they come from) are updated
/// by a rule, not trained. The train graph outputs the update
///   c - (1-decay) · Σ_j m_j (c - x_j) / (1 + Σ_j m_j)
/// (ESAM's c_{t+1} = c_t - α·Δc_t with α = 1 - decay): a batch with n rows
/// moves c by (1-decay)·n/(n+1) of the way to their mean, and one without any
/// leaves it unchanged.
NodeId GraphBuilder::runningMean(NodeId x, double decay, NodeId mask, const std::string& name,
                                 const SourceLoc& loc) {
  if (x == kNoNode) return kNoNode;
  const Shape s = shapeOf(x);
  bool ok = s.rank() >= 2 && isBatchDim(s[0]);
  for (size_t i = 1; ok && i < s.rank(); ++i) ok = s[i] >= 0;
  if (!ok) {
    report(loc, "'running_mean' averages the rows of a value of shape [B,...], got " + s.str());
    return kNoNode;
  }
  if (mask != kNoNode) {
    // The mask picks rows; a per-entry mask would give every entry its own count.
    const Shape ms = shapeOf(mask);
    if (!(ms.rank() == 1 || (ms.rank() == 2 && ms[1] == 1)) || !isBatchDim(ms[0])) {
      report(loc, "the mask ('where') of 'running_mean' has shape " + ms.str() +
                      ", but it must pick rows of " + s.str() + ": expected [B,1]");
      return kNoNode;
    }
  }
  std::vector<int64_t> shape = s.dims;
  shape[0] = 1;
  NodeId c = stateInput({name, "running_stat", shape, "", false, decay}, {{"decay", decay}}, loc);
  if (mode_ != GraphMode::Train || c == kNoNode) return c;
  // Without a mask every row counts: ones shaped like x.
  NodeId m = mask == kNoNode ? scaleShift(x, 0, 1, loc)
                             : add(OpKind::BroadcastLike, {maskLike(mask, x, loc), x}, {}, loc);
  NodeId sum = reduceAxes(OpKind::ReduceSum, add(OpKind::Mul, {x, m}, {}, loc), {0}, true, loc);
  NodeId n = reduceAxes(OpKind::ReduceSum, m, {0}, true, loc);
  NodeId delta = add(OpKind::Div, {add(OpKind::Sub, {add(OpKind::Mul, {n, c}, {}, loc), sum}, {}, loc),
                                   scaleShift(n, 1, 1, loc)}, {}, loc);
  NodeId next = add(OpKind::Sub, {c, scaleShift(delta, 1 - decay, 0, loc)}, {}, loc);
  if (next != kNoNode) g_.addOutput(next, ValueRole::StateUpdate, name);
  return c;
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

} // namespace recc::buildgraph
