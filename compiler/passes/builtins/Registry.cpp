// Registry: hands the builtin families to the dsl, in the order of the
// language reference (the order "did you mean" prefers among equally close
// names, and the order of dsl/Builtins.h's table before the records moved
// here).
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {

void registerLanguageBuiltins() {
  for (auto family : {layerBuiltins, elementwiseBuiltins, crossEntropyBuiltins,
                      reductionBuiltins, sequenceBuiltins, attentionBuiltins,
                      normalizationBuiltins, paramBuiltins, retrievalBuiltins, expertBuiltins,
                      gradientFlowBuiltins, lossBuiltins})
    registerBuiltins(family());
}

} // namespace recc::buildgraph::builtins
