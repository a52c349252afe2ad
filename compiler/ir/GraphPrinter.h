// GraphPrinter: the textual IR (one node per line, `%id = op(%a, %b) {attrs} :
// [shape]`) and a Graphviz rendering. The text form is what golden tests
// compare, so it is deterministic and prints source locations on request.
#pragma once

#include "compiler/ir/Graph.h"

#include <iosfwd>
#include <string>

namespace recc {

struct PrintOptions {
  bool locations = false;  ///< append "// file:line:col" to each node
  bool backward = true;    ///< print nodes appended by autodiff
};

void printGraph(const Graph& graph, const std::string& title, std::ostream& os,
                const PrintOptions& options = {});

/// Graphviz dot: forward nodes in one cluster, backward nodes in another.
void printDot(const Graph& graph, const std::string& title, std::ostream& os);

} // namespace recc
