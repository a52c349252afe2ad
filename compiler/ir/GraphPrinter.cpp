// GraphPrinter: text and dot renderings of a Graph.
#include "compiler/ir/GraphPrinter.h"

#include <ostream>

namespace recc {

static void printBindings(const Graph& g, const std::vector<Binding>& list, const char* what,
                          std::ostream& os, size_t limit) {
  for (const auto& b : list) {
    if ((size_t)b.node >= limit) continue;
    os << "  " << what << " " << roleName(b.role) << " '" << b.name << "' = %" << b.node << " : "
       << g.node(b.node).shape.str() << "\n";
  }
}

void printGraph(const Graph& g, const std::string& title, std::ostream& os,
                const PrintOptions& opt) {
  size_t fwd = g.forwardSize() ? g.forwardSize() : g.size();
  size_t limit = opt.backward ? g.size() : fwd;
  os << "graph " << title << " {\n";
  printBindings(g, g.inputs(), "input", os, limit);
  for (size_t i = 0; i < limit; ++i) {
    const Node& n = g.node((NodeId)i);
    if (i == fwd && fwd < g.size()) os << "  // backward\n";
    os << "  %" << n.id << " = " << opName(n.kind);
    if (!n.inputs.empty()) {
      os << "(";
      for (size_t k = 0; k < n.inputs.size(); ++k) os << (k ? ", " : "") << "%" << n.inputs[k];
      os << ")";
    }
    std::string attrs = n.attrs.str();
    if (!attrs.empty()) os << " " << attrs;
    os << " : " << n.shape.str();
    if (!n.name.empty()) os << "  '" << n.name << "'";
    if (opt.locations && n.loc.known()) os << "  // " << n.loc.str();
    os << "\n";
  }
  printBindings(g, g.outputs(), "output", os, limit);
  os << "}\n";
}

static std::string dotLabel(const Node& n) {
  std::string label = std::string(opName(n.kind));
  if (!n.name.empty()) label += "\\n" + n.name;
  return label + "\\n" + n.shape.str();
}

void printDot(const Graph& g, const std::string& title, std::ostream& os) {
  size_t fwd = g.forwardSize() ? g.forwardSize() : g.size();
  os << "digraph \"" << title << "\" {\n  rankdir=TB;\n  node [shape=box, fontsize=10];\n";
  auto cluster = [&](const char* name, const char* label, size_t from, size_t to) {
    if (from >= to) return;
    os << "  subgraph cluster_" << name << " {\n    label=\"" << label << "\";\n";
    for (size_t i = from; i < to; ++i) {
      const Node& n = g.node((NodeId)i);
      const char* style = n.kind == OpKind::Param ? ", style=filled, fillcolor=lightyellow"
                          : n.kind == OpKind::Input ? ", style=filled, fillcolor=lightblue"
                                                    : "";
      os << "    n" << n.id << " [label=\"" << dotLabel(n) << "\"" << style << "];\n";
    }
    os << "  }\n";
  };
  cluster("forward", "forward", 0, fwd);
  cluster("backward", "backward", fwd, g.size());
  for (const Node& n : g.nodes())
    for (NodeId in : n.inputs) os << "  n" << in << " -> n" << n.id << ";\n";
  for (size_t k = 0; k < g.outputs().size(); ++k) {
    const Binding& b = g.outputs()[k];
    os << "  out" << k << " [shape=ellipse, label=\"" << roleName(b.role) << "\\n" << b.name
       << "\"];\n  n" << b.node << " -> out" << k << ";\n";
  }
  os << "}\n";
}

} // namespace recc
