// Graph: node storage, attribute accessors and the graph's input/output bindings.
#include "compiler/ir/Graph.h"

#include <cassert>
#include <sstream>

namespace recc {

int64_t Attrs::getInt(const std::string& key, int64_t dflt) const {
  auto it = map_.find(key);
  if (it == map_.end()) return dflt;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (auto* d = std::get_if<double>(&it->second)) return (int64_t)*d;
  return dflt;
}

double Attrs::getFloat(const std::string& key, double dflt) const {
  auto it = map_.find(key);
  if (it == map_.end()) return dflt;
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  if (auto* v = std::get_if<int64_t>(&it->second)) return (double)*v;
  return dflt;
}

std::vector<int64_t> Attrs::getInts(const std::string& key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return {};
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* i = std::get_if<int64_t>(&it->second)) return {*i};
  return {};
}

std::string Attrs::getString(const std::string& key, const std::string& dflt) const {
  auto it = map_.find(key);
  if (it == map_.end()) return dflt;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return dflt;
}

static void printAttr(std::ostream& os, const AttrValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) {
    os << *i;
  } else if (auto* d = std::get_if<double>(&v)) {
    os << *d;
  } else if (auto* l = std::get_if<std::vector<int64_t>>(&v)) {
    os << "[";
    for (size_t k = 0; k < l->size(); ++k) os << (k ? "," : "") << (*l)[k];
    os << "]";
  } else {
    os << '"' << std::get<std::string>(v) << '"';
  }
}

std::string Attrs::str() const {
  if (map_.empty()) return "";
  std::ostringstream os;
  os << "{";
  bool first = true;
  for (const auto& [k, v] : map_) {
    os << (first ? "" : ", ") << k << "=";
    printAttr(os, v);
    first = false;
  }
  os << "}";
  return os.str();
}

const char* roleName(ValueRole role) {
  switch (role) {
  case ValueRole::Feature: return "feature";
  case ValueRole::EmbeddingRows: return "embedding_rows";
  case ValueRole::Label: return "label";
  case ValueRole::Param: return "param";
  case ValueRole::Seed: return "seed";
  case ValueRole::Output: return "output";
  case ValueRole::Loss: return "loss";
  case ValueRole::LossTerm: return "loss_term";
  case ValueRole::Gradient: return "gradient";
  case ValueRole::State: return "state";
  case ValueRole::StateUpdate: return "state_update";
  case ValueRole::Progress: return "progress";
  case ValueRole::BatchSlice: return "batch_slice";
  }
  return "?";
}

NodeId Graph::add(OpKind kind, std::vector<NodeId> inputs, Attrs attrs, SourceLoc loc,
                  std::string name) {
  Node n;
  n.id = (NodeId)nodes_.size();
  for ([[maybe_unused]] NodeId in : inputs) assert(in >= 0 && in < n.id && "inputs must precede");
  n.kind = kind;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  n.loc = std::move(loc);
  n.name = std::move(name);
  nodes_.push_back(std::move(n));
  return nodes_.back().id;
}

void Graph::addInput(NodeId node, ValueRole role, std::string name) {
  inputs_.push_back({node, role, std::move(name)});
}

void Graph::addOutput(NodeId node, ValueRole role, std::string name) {
  outputs_.push_back({node, role, std::move(name)});
}

void Graph::unbindDeadInputs(ValueRole role) {
  std::vector<bool> live(nodes_.size(), false);
  for (const Binding& out : outputs_) live[out.node] = true;
  for (size_t i = nodes_.size(); i-- > 0;)
    if (live[i])
      for (NodeId in : nodes_[i].inputs) live[in] = true;
  std::erase_if(inputs_, [&](const Binding& b) { return b.role == role && !live[b.node]; });
}

NodeId Graph::findInput(ValueRole role, const std::string& name) const {
  for (const auto& b : inputs_)
    if (b.role == role && b.name == name) return b.node;
  return kNoNode;
}

NodeId Graph::findOutput(ValueRole role, const std::string& name) const {
  for (const auto& b : outputs_)
    if (b.role == role && b.name == name) return b.node;
  return kNoNode;
}

} // namespace recc
