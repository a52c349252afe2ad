// BuildDriver: the BuildGraph pass driver — index the model's declarations,
// evaluate its statements in order, bind outputs and losses, fill the plan's
// features, tables, metrics and train settings, and mark frozen parameters
// (see BuildGraph.h for the algorithm). Expressions are evaluated in
// BuildGraph.cpp, builtin calls by their records (compiler/passes/builtins/).
#include "compiler/passes/GraphBuilder.h"

#include "dsl/Columns.h"

#include <algorithm>
#include <set>

namespace recc::buildgraph {

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
    info.dynamic = t.storage.empty() ? rt::dynamicByDefault(info.rows, info.dim)
                                     : t.storage == "dynamic";
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
        plan_.streams.push_back({st->name.name, st->batch ? intConst(st->batch.get(), 0) : 0});
        self(st->body, streamBatchDim((int)stage_.streams.size()), self);
      }
      if (auto* t = dynCast<TableDecl>(s.get())) addTable(*t);
      if (auto* b = dynCast<BlockDecl>(s.get())) blocks_[b->name.name] = b;
      if (auto* l = dynCast<LabelDecl>(s.get()))
        for (const auto& n : l->names) {
          labels_.emplace(n.name, LabelInfo{&n, kNoNode, batch});
          plan_.labels.push_back({n.name, n.column.empty() ? n.name : n.column, -1 - batch});
        }
      if (auto* in = dynCast<InputDecl>(s.get())) {
        InputInfo info;
        readInputType(*in, info);
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
// Plan
//===----------------------------------------------------------------------===//

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
    f.words = in.words;
    f.stream = -1 - in.batch;  // kBatchDim is stream 0, streamBatchDim(k) stream k
    f.lookup = in.lookup;
    f.vocabFile = in.vocabFile;
    f.boundaries = in.boundaries;
    f.hasNa = in.hasNa;
    f.na = in.na;
    plan_.features.push_back(f);
  }
  for (const auto& name : tableOrder_) {
    const TableInfo& t = tables_.at(name);
    if (t.used) plan_.tables.push_back({name, t.rows, t.dim, t.init, t.dynamic});
  }
  for (const auto& s : model_.body) {
    if (auto* m = dynCast<MetricStmt>(s.get())) addMetric(*m);
    if (auto* t = dynCast<TrainStmt>(s.get())) readTrainSettings(*t);
  }
  for (const auto& s : model_.body)
    if (auto* c = dynCast<ColumnsStmt>(s.get())) readColumns(*c);
}

/// `columns [...]` into the plan, after checking that it names every column
/// the model reads (inputs and labels of every stream, metrics' group and
/// target columns), so a headerless file is refused here rather than when read.
void GraphBuilder::readColumns(const ColumnsStmt& c) {
  ColumnList list = expandColumns(c, nullptr);
  plan_.columns = list.names;
  plan_.delimiter = list.delimiter;
  std::set<std::string> reported;  // each missing column once
  auto require = [&](const std::string& column, const std::string& what) {
    if (column.empty() ||
        std::find(list.names.begin(), list.names.end(), column) != list.names.end() ||
        !reported.insert(column).second)
      return;
    report(c.loc, what + " reads column '" + column + "', which the 'columns' list lacks");
  };
  for (const rt::FeatureSpec& f : plan_.features) require(f.column, "input '" + f.name + "'");
  for (const rt::LabelSpec& l : plan_.labels) require(l.column, "label '" + l.name + "'");
  for (const rt::MetricSpec& m : plan_.metrics) {
    require(m.groupColumn, "metric '" + m.name + "'");
    require(m.targetColumn, "metric '" + m.name + "'");
  }
}

/// A `metric` statement as the plan's MetricSpec, after checking that its
/// score fits it (one score per row, or a top_k output for ranking metrics).
void GraphBuilder::addMetric(const MetricStmt& m) {
  auto* call = dynCast<CallExpr>(m.value.get());
  if (!call) return;
  rt::MetricSpec spec;
  spec.name = m.name.name;
  spec.kind = call->callee;
  const BuiltinRecord* sig = findBuiltin(call->callee, BuiltinContext::Metric);
  std::vector<const Expr*> args;
  if (!sig || !bindArgs(*call, spec.kind, sig->params, false, "", args, diag_)) return;
  auto columnOf = [&](const std::string& input) {
    auto it = inputs_.find(input);
    return it == inputs_.end() || it->second.ident->column.empty() ? input
                                                                   : it->second.ident->column;
  };
  bool ranking = isRankingMetric(*sig);
  if (auto* n = dynCast<NameExpr>(args[0])) spec.output = n->name;
  if (auto* n = dynCast<NameExpr>(args[1])) (ranking ? spec.targetColumn : spec.label) =
                                                ranking ? columnOf(n->name) : n->name;
  const Expr* by = ranking ? args[3] : args[2];
  if (auto* n = dynCast<NameExpr>(by)) spec.groupColumn = columnOf(n->name);
  if (auto* n = isBuiltin(sig, "gauc") ? dynCast<NameExpr>(args[3]) : nullptr)
    spec.reduce = n->name;
  spec.filterLabel = m.where.name;
  checkMetricScore(spec, args, ranking);
  plan_.metrics.push_back(spec);
}

/// Ranking metrics score a top_k output (the retrieved ids), the others one
/// score per row; sets the ranking metric's `k` (default: the top_k width).
void GraphBuilder::checkMetricScore(rt::MetricSpec& spec, const std::vector<const Expr*>& args,
                                    bool ranking) {
  // top_k outputs exist only in the serving graph: in the train graph
  // they are Serving values that carry their width.
  auto var = modelFrame_.vars.find(spec.output);
  bool isTop = false;
  int64_t width = 0;
  if (var != modelFrame_.vars.end() && var->second.kind == Value::Kind::Serving) {
    isTop = true;
    width = (int64_t)var->second.number;
  } else if (var != modelFrame_.vars.end() && var->second.kind == Value::Kind::Tensor &&
             g_.node(var->second.node).kind == OpKind::TopK) {
    isTop = true;
    width = g_.node(var->second.node).attrs.getInt("k");
  }
  NodeId out = g_.findOutput(ValueRole::Output, spec.output);
  if (ranking) {
    spec.k = args[2] ? intConst(args[2], width) : width;
    if (var != modelFrame_.vars.end() && var->second.ok() && !isTop)
      report(args[0]->loc, "metric '" + spec.name + "' ranks the items that '" + spec.output +
                               "' retrieves, but '" + spec.output + "' is not a top_k output" +
                               (out != kNoNode ? " (it has shape " + shapeOf(out).str() + ")"
                                               : std::string()) +
                               "; retrieve items with top_k(query, items, k)");
    else if (isTop && spec.k > width)
      report(args[2]->loc, "'k' of '" + spec.kind + "' is " + std::to_string(spec.k) +
                               ", but '" + spec.output + "' retrieves only the top " +
                               std::to_string(width) + " items");
  } else if (isTop) {
    report(args[0]->loc, "metric '" + spec.name + "' needs one score per row, but '" +
                             spec.output + "' is a top_k output (the ids of the top " +
                             std::to_string(width) + " items); score it with recall, "
                             "precision, hitrate, ndcg, mrr or map");
  } else if (out != kNoNode && shapeOf(out).numElements(1) != 1) {
    report(args[0]->loc, "metric '" + spec.name + "' needs one score per row, but '" +
                             spec.output + "' has shape " + shapeOf(out).str());
  }
}

/// `train { batch, epochs, seed, clip_norm, init, freeze, optimizer }` into the plan and
/// the stage.
void GraphBuilder::readTrainSettings(const TrainStmt& t) {
  for (const auto& st : t.settings) {
    const std::string& key = st.name.name;
    if (key == "batch") plan_.batchSize = intConst(st.value.get(), plan_.batchSize);
    if (key == "epochs") plan_.epochs = intConst(st.value.get(), plan_.epochs);
    if (key == "seed") plan_.seed = (uint64_t)intConst(st.value.get(), (int64_t)plan_.seed);
    if (key == "clip_norm") plan_.clipNorm = numConst(st.value.get());
    if (auto* n = dynCast<NameExpr>(st.value.get()); n && key == "init") {
      stage_.initFrom = plan_.initFrom = n->name;
      stage_.initLoc = st.value->loc;
    }
    if (auto* l = dynCast<ListExpr>(st.value.get()); l && key == "freeze")
      for (const auto& item : l->items)
        if (auto* n = dynCast<NameExpr>(item.get())) stage_.frozen.push_back(n->name);
    if (key == "freeze") plan_.frozen = stage_.frozen;
    if (key == "optimizer") readOptimizer(*st.value);
  }
}

/// `optimizer = adam(lr = ..., ...)` (or a bare name) as the plan's optimizer.
void GraphBuilder::readOptimizer(const Expr& e) {
  std::string kind;
  const CallExpr* call = dynCast<CallExpr>(&e);
  if (call) kind = call->callee;
  else if (auto* n = dynCast<NameExpr>(&e)) kind = n->name;
  const BuiltinRecord* sig = findBuiltin(kind, BuiltinContext::Optimizer);
  if (!sig) return;
  rt::OptimizerSpec& o = plan_.optimizer;
  o = rt::OptimizerSpec{};
  o.kind = kind;
  std::vector<const Expr*> args;
  if (call && !bindArgs(*call, kind, sig->params, false, "", args, diag_)) return;
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

} // namespace recc::buildgraph
