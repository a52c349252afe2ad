// StepReplay: the StepInspector of `recc train` (runtime/StepInspector.h). It
// replays one train step on the reference executor from the step's own
// buffers (the inputs as the step read them: features, gathered embedding
// rows, labels, seed, progress, and the parameters and states as they were
// before the step's update, which is not applied when a step goes bad) and
// watches every value:
//   - firstNonFinite: each op's result is rounded to float, as the compiled
//     backends store it, and the first op in topological order (forward,
//     then backward) whose rounded result holds a NaN or an infinity is
//     named with its source location, shape, first bad element and inputs;
//   - checkNorms: the first batched forward value with a row whose L2 norm
//     exceeds the limit, and the largest row norm seen.
// The replay costs about one reference-executor step; it runs only when a
// step went bad, or every N steps for --check-norms.
#pragma once

#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/ir/Graph.h"
#include "runtime/StepInspector.h"

#include <memory>

namespace recc {

class StepReplay final : public rt::StepInspector {
public:
  /// `graph` (the model's train graph) must outlive the replay.
  explicit StepReplay(const Graph& graph);

  void validate(const rt::NormCheck& check) const override;
  std::string firstNonFinite(const rt::BatchSizes& batch, const float* const* buffers) override;
  rt::NormReport checkNorms(const rt::BatchSizes& batch, const float* const* buffers,
                            const rt::NormCheck& check) override;

private:
  std::vector<RefTensor> inputs(const rt::BatchSizes& batch, const float* const* buffers) const;
  /// "t.rec:4:7: exp 'h' (forward) [4,2]".
  std::string describe(const Node& n, const RefTensor& value) const;

  const Graph& G;
  ReferenceExecutor Exec;
};

} // namespace recc
