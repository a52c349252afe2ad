// TrainerSteps: pieces of one training step shared by the in-memory epoch
// (Trainer.cpp) and the streamed one (TrainerStream.cpp).
#pragma once

#include "runtime/DataSet.h"
#include "runtime/StepFunction.h"
#include "runtime/StepRunner.h"
#include "runtime/StreamCycle.h"

#include <span>
#include <vector>

namespace recc::rt::trainer_detail {

/// The batches of the plan's other streams, cycled (StreamCycle.h), each of
/// the compiled step's fixed size or else the plan's.
std::vector<StreamCycle> streamCycles(const ModelPlan& plan, const StepFunction& fn,
                                      const std::vector<const DataSet*>& streams);

/// One step's rows of each stream: the source's batch, then each cycle's.
std::vector<StepRunner::StreamRows> stepRows(const DataSet& train, std::span<const int64_t> rows,
                                             const std::vector<const DataSet*>& streams,
                                             std::vector<StreamCycle>& cycles, int64_t step);

/// Under mpirun: refuses a train step made for another batch than this
/// rank's slice, `mine` of the `global` rows (0: the step takes any batch).
void checkSliceBatch(int64_t made, int64_t mine, int64_t global);

/// Under mpirun, the end of an epoch's line: the ranks, the bytes this rank
/// sent per step since `sentBefore` (Cluster::bytesSent), and the dense sums'
/// time (StepRunner::overlapSummary).
std::string trafficLine(int64_t sentBefore, int64_t steps, const StepRunner& runner);

} // namespace recc::rt::trainer_detail
