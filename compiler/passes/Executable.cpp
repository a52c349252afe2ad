// Executable: see the header.
#include "compiler/passes/Executable.h"

namespace recc {

std::vector<Binding> unfedInputs(const Graph& graph) {
  std::vector<Binding> out;
  for (const Binding& b : graph.inputs()) {
    const Shape& s = graph.node(b.node).shape;
    bool otherStream = !s.isScalar() && s[0] < kBatchDim;
    if (otherStream)
      out.push_back(b);
  }
  return out;
}

} // namespace recc
