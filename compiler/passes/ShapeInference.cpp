// ShapeInference: see the header for the algorithm.
#include "compiler/passes/ShapeInference.h"

#include "compiler/ops/OpDef.h"

namespace recc {

bool inferShapes(Graph& graph, DiagnosticEngine& diag) {
  std::vector<bool> bad(graph.size(), false);
  bool ok = true;
  for (size_t i = 0; i < graph.size(); ++i) {
    Node& n = graph.node((NodeId)i);
    bool skip = false;
    for (NodeId in : n.inputs) skip = skip || bad[in];
    if (skip) {
      bad[i] = true;
      continue;
    }
    try {
      n.shape = inferNodeShape(graph, n.id);
    } catch (const ShapeError& e) {
      diag.error(n.loc, e.what());
      bad[i] = true;
      ok = false;
    }
  }
  return ok;
}

} // namespace recc
