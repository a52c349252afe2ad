// Towers: see the header.
#include "compiler/passes/Towers.h"

#include <set>

namespace recc {
namespace {

/// The input roles a tower may be left bound to; each is unbound when dead.
constexpr ValueRole kInputRoles[] = {ValueRole::Feature, ValueRole::EmbeddingRows,
                                     ValueRole::Label,   ValueRole::Param,
                                     ValueRole::Seed,    ValueRole::State,
                                     ValueRole::Progress, ValueRole::BatchSlice};

/// A node a tower can return: an input or parameter read directly gets an
/// identity (scale_shift by 1) so that every output is computed by the step.
NodeId outputNode(Graph& g, NodeId n) {
  OpKind k = g.node(n).kind;
  if (k != OpKind::Input && k != OpKind::Param && k != OpKind::Constant) return n;
  Node copy = g.node(n);
  NodeId id = g.add(OpKind::ScaleShift, {n}, {{"scale", 1.0}, {"shift", 0.0}}, copy.loc);
  g.node(id).shape = copy.shape;
  return id;
}

/// A copy of the eval graph that computes `outputs` only, bound to the inputs they read.
Graph slice(const Graph& eval, const std::vector<std::pair<NodeId, std::string>>& outputs) {
  Graph g = eval;
  g.clearOutputs();
  for (const auto& [node, name] : outputs) g.addOutput(outputNode(g, node), ValueRole::Output, name);
  for (ValueRole role : kInputRoles) g.unbindDeadInputs(role);
  return g;
}

/// The names of the data inputs (features, embedded ids) `g` reads.
std::set<std::string> dataInputs(const Graph& g) {
  std::set<std::string> names;
  for (const Binding& b : g.inputs())
    if (b.role == ValueRole::Feature || b.role == ValueRole::EmbeddingRows) names.insert(b.name);
  return names;
}

/// Reports what makes the item tower depend on more than the item: a label,
/// or an input the user tower reads too. Returns true if there is none.
bool checkItemTower(const Graph& item, const Graph& user, const Node& op,
                    const std::string& output, const std::string& model, DiagnosticEngine& diag) {
  const std::set<std::string> userSide = dataInputs(user);
  std::string why;
  for (const Binding& b : item.inputs()) {
    if (b.role == ValueRole::Label)
      why = "reads label '" + b.name + "'";
    else if ((b.role == ValueRole::Feature || b.role == ValueRole::EmbeddingRows) &&
             userSide.count(b.name))
      why = "reads '" + b.name + "', which the user tower (the query) reads too";
    if (!why.empty()) break;
  }
  if (why.empty()) return true;
  diag.error(op.loc, "model '" + model + "': the item tower of top_k output '" + output + "' " +
                         why + "; retrieval runs the item tower once per corpus item, so it may "
                               "read item-side inputs only");
  return false;
}

} // namespace

std::optional<Towers> deriveTowers(const CompiledModel& model, const std::string& file,
                                   DiagnosticEngine& diag) {
  const Graph& eval = model.evalGraph;
  const std::string& name = model.plan.model;
  std::vector<const Binding*> topK;
  for (const Binding& b : eval.outputs())
    if (b.role == ValueRole::Output && eval.node(b.node).kind == OpKind::TopK) topK.push_back(&b);
  if (topK.empty()) {
    diag.error(SourceLoc{file, 0, 0},
               "model '" + name + "' has no top_k output, so it cannot retrieve from a corpus "
               "(--corpus); add one, e.g. 'top_items = top_k(v_u, v_i, k = 200)' and "
               "'output top_items'");
    return std::nullopt;
  }
  const Node& first = eval.node(topK[0]->node);
  const NodeId items = first.inputs[1];
  std::vector<std::pair<NodeId, std::string>> queries;
  Towers t;
  for (const Binding* b : topK) {
    const Node& op = eval.node(b->node);
    if (op.inputs[1] != items) {
      diag.error(op.loc, "model '" + name + "': top_k outputs '" + topK[0]->name + "' and '" +
                             b->name + "' retrieve from different item towers; corpus "
                             "retrieval needs one item tower for all of them");
      diag.note(first.loc, "'" + topK[0]->name + "' is retrieved here");
      return std::nullopt;
    }
    queries.push_back({op.inputs[0], b->name + ".query"});
    t.spec.topK.push_back(b->name);
    t.spec.k.push_back(op.attrs.getInt("k"));
  }
  t.user = slice(eval, queries);
  t.item = slice(eval, {{items, "items"}});
  if (!checkItemTower(t.item, t.user, first, topK[0]->name, name, diag)) return std::nullopt;
  t.spec.user = stepSpecOf(t.user, kUserTowerSymbol);
  t.spec.item = stepSpecOf(t.item, kItemTowerSymbol);
  return t;
}

} // namespace recc
