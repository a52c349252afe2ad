// StepRunner: binds one StepSpec (train_step or eval_step) to a ModelState
// and a StepFunction, and runs it batch by batch. Binding happens once and
// checks every buffer against the model, so a plan/backend mismatch fails
// before the first step with the buffer's index, name and both shapes.
// Buffers by role:
//   Feature        dense feature: [B] or [B,1], transformed (tanh_zscore,
//                  zscore); categorical feature: its ids as floats, [B],
//                  [B,1], [B,L] or [B,L,W] (a bag of W words per element)
//   EmbeddingRows  rows of the feature's table for its ids: [B,dim],
//                  [B,L,dim] or [B,L,W,dim] (padding id -1 gives zero rows)
//   Label          [B] or [B,1]; zeros if the data set has no labels
//   Param          the ParamStore buffer itself (no copy)
//   Seed           one float holding an integer < 2^24 from (plan seed, step)
//   State          a state of the StateStore itself (no copy), shaped like it;
//                  with `ids`: the rows of that feature's table's EMA shadow
//                  for its ids, caught up to the current step (StateStore.h)
//   Progress       one float: the training progress p in [0,1] (setProgress;
//                  1 unless the trainer sets it)
//   BatchSlice     [first row, rows] of the global batch of one stream
//                  ("batch_slice", "batch_slice.K" for stream K) that these
//                  rows are (StreamRows; [0, rows] in one process)
//   Output         [B,...] or unbatched, allocated here
//   Loss/LossTerm  one float each
//   Gradient       named like a Param: written into the ParamStore gradient;
//                  named like an EmbeddingRows feature: row gradients shaped
//                  like those rows, applied to the table as a sparse update
//   StateUpdate    shaped like the running_stat state of the same name,
//                  copied into it by applyGradients
// A model with input streams (`stream` blocks) has buffers batched by each
// stream: a first dimension -1 is the source's batch, -2 stream 1's, ...;
// run() takes each stream's data and rows (a training step), or one data
// set and rows that every stream reads (evaluation, prediction).
// With the plan's clip_norm, applyGradients first scales every gradient to
// a global norm of at most it (GradientClip.h).
// Under mpirun (Cluster.h) each rank runs the step on its slice of the global
// batch; applyGradients first averages over the ranks, in rank order, every
// dense gradient, the loss and loss terms and the state updates, and gathers
// every rank's row gradients (scaled by 1/N), so that every rank applies the
// same update to identical replicas of the parameters and tables.
// Inputs and outputs are allocated once for the largest batch and reused.
#pragma once

#include "runtime/Cluster.h"
#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/ShardedTables.h"
#include "runtime/StepFunction.h"
#include "runtime/Tensor.h"

#include <functional>
#include <limits>
#include <memory>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace recc::rt {

class StepRunner {
public:
  /// Binds `spec` for batches of up to `capacity` rows per stream (the
  /// function's fixed batches if it has them). `what` names the step in
  /// messages ("train step").
  StepRunner(const StepSpec& spec, ModelState& state, StepFunction& fn,
             const BatchSizes& capacity, std::string what);

  const BatchSizes& capacity() const { return Capacity; }

  /// One stream's batch: rows of a data set holding that stream's columns.
  struct StreamRows {
    const DataSet* data;
    std::span<const int64_t> rows;
    /// Under mpirun: where these rows start in the global batch, and its rows
    /// (0: these rows are the whole batch).
    int64_t firstRow = 0;
    int64_t globalRows = 0;
  };
  /// Fills the inputs of stream k from streams[k] (one entry per stream of
  /// the plan: the source, then each `stream` block) and runs the step.
  void run(std::span<const StreamRows> streams, uint32_t seed);
  /// Fills every stream's inputs from `rows` of `data` and runs the step.
  void run(const DataSet& data, std::span<const int64_t> rows, uint32_t seed);
  /// With sharded tables (ShardedTables.h) each run fetches its batch's rows
  /// from their owners, a collective call. Evaluation, whose ranks run
  /// different numbers of batches, has a rank without a batch join the
  /// fetch with nothing to ask (joinFetch), and reruns a batch on the rows
  /// fetched for it (reuseFetchedRows: the next run fetches nothing).
  bool fetchesRows() const { return Remote != nullptr; }
  void joinFetch();
  void reuseFetchedRows() { ReuseFetched = Remote != nullptr; }
  /// The value later runs feed to a Progress input (default 1: training done).
  void setProgress(double p) { ProgressValue = static_cast<float>(p); }

  bool hasLoss() const { return LossBuffer >= 0; }
  /// The Loss buffer after run() (NaN if the step has none).
  float loss() const;
  /// Each LossTerm buffer's name and value after run().
  std::vector<std::pair<std::string, float>> lossTerms() const;

  /// An output buffer after run(): `perRow` floats per batch row if batched.
  struct Output {
    std::string name;
    const float* data;
    int64_t perRow;
    bool batched;
    int stream;  ///< the stream whose batch it is batched by
  };
  std::vector<Output> outputs() const;

  /// True if the step returns any gradient.
  bool hasGradients() const;
  /// The first output buffer after run() (gradients, outputs, loss terms,
  /// state updates, in calling order) holding a NaN or an infinity: its role,
  /// name, shape and the first bad element; empty if all are finite. One
  /// pass over the outputs (Divergence.h).
  std::string firstNonFiniteOutput() const;
  /// The buffers of the last run() in calling order: the inputs as the step
  /// read them (parameters and whole states are not updated until
  /// applyGradients()), for a replay of the step (StepInspector.h).
  const float* const* buffers() const { return Pointers.data(); }
  /// The batch rows of each stream in the last run().
  BatchSizes lastBatch() const { return BatchSizes(LastBatch); }
  /// The global gradient norm of the last applyGradients() with clip_norm
  /// (before clipping, GradientClip.h); NaN without clip_norm.
  double lastGradientNorm() const { return LastGradientNorm; }
  /// With clip_norm: "gradient norm mean M, max X, clipped in K of N steps"
  /// over this runner's steps; else empty.
  std::string clipSummary() const;
  /// Under mpirun: how long the dense sums took per step and how much of it
  /// the step waited for (the rest overlapped the sparse work); or "".
  std::string overlapSummary() const;
  /// Completes a train step after run(): copies each StateUpdate output into
  /// its state, applies the gradients as optimizer step state.step + 1 (dense
  /// parameters, then one sparse update per table), moves the EMA shadows
  /// (StateStore.h), then advances state.step.
  void applyGradients();

private:
  struct Binding {
    BufferSpec::Role role;
    std::string name;
    Shape shape;
    bool batched = false;
    int stream = 0;       // the input stream it is batched by (first dimension -1 - stream)
    int64_t perRow = 1;   // elements per batch row (or in all, if unbatched)
    int feature = -1;     // plan feature (Feature, EmbeddingRows, row Gradient)
    int label = -1;
    int param = -1;       // ParamStore index (Param, dense Gradient)
    int table = -1;       // ModelState table index (EmbeddingRows, row Gradient, shadow rows)
    int state = -1;       // StateStore index (State, StateUpdate)
    std::string ids;      // State rows of a shadow table: the id feature
    Tensor storage;       // owned buffer, unless it lives in the ParamStore/StateStore
  };
  void bind(const BufferSpec& buffer, size_t index);
  void bindInput(Binding& b);
  void bindState(Binding& b);
  void bindStateUpdate(Binding& b);
  void bindGradient(Binding& b);
  /// The ParamStore or StateStore buffer a binding uses in place, or null.
  float* external(const Binding& b);
  using TableGradients = std::map<int, std::vector<EmbeddingTable::RowGradients>>;
  /// Each table's row gradients sorted once into runs (EmbeddingTable::sortRows).
  using TableRuns = std::map<int, EmbeddingTable::RowRuns>;
  void applyTableGradients(const TableRuns& runs, int64_t t);
  /// The row gradients of the last run(), grouped by table: this rank's, or
  /// after averageRowGradients() every rank's.
  TableGradients rowGradients() const;
  /// clip_norm: scales every gradient so that their global norm is at most it.
  void clipGradients(const TableRuns& runs, double maxNorm);
  /// Under mpirun: the mean over ranks described above. The dense part
  /// (gradients, loss, state updates) is started, then finished.
  void gradientReady(int64_t buffer);
  void startDenseAverage();
  void finishDenseAverage();
  void averageRowGradients();
  /// Elements of binding `b` in the last run (its stream's rows times perRow).
  int64_t elementsOf(const Binding& b) const;
  void fillInput(Binding& b, const StreamRows& in, uint32_t seed);
  void gatherIds(std::span<const StreamRows> streams);
  /// The stream a feature or label of the plan is read from.
  int featureStream(int f) const;
  void checkStream(const Binding& b, int stream, const char* what) const;

  ModelState& State;
  StepFunction& Fn;
  BatchSizes Capacity;
  int NumStreams;  // the plan's: the source and its `stream` blocks
  std::string What;
  std::vector<Binding> Bindings;
  std::vector<float*> Pointers;
  std::vector<std::vector<int64_t>> BatchIds;  // per feature, if needed
  int LossBuffer = -1;
  std::vector<int64_t> LastBatch;  // rows of each stream in the last run
  float ProgressValue = 1.0f;
  double LastGradientNorm = std::numeric_limits<double>::quiet_NaN();
  /// With sharded tables: the rows of other ranks this step reads.
  void fetchRows(const std::function<std::span<const int64_t>(int feature)>& idsOf);
  std::unique_ptr<FetchedRows> Remote;
  bool ReuseFetched = false;
  /// Every rank's row gradients of the last step (averageRowGradients), per
  /// binding of each rank; used instead of this rank's when `Gathered`.
  bool Gathered = false;
  std::vector<std::vector<int64_t>> GatheredIds;
  std::vector<std::vector<float>> GatheredGrads;
  std::vector<int> GatheredTables;
  /// Under mpirun with gradients: the dense sums' thread; the gradients the
  /// step handed over as it ran (summed in place, by buffer: Notified), and
  /// the rest packed into one vector.
  std::unique_ptr<BackgroundSums> Sums;
  std::vector<char> Notified;
  std::vector<std::span<float>> DenseParts;
  std::vector<std::span<float>> PackedParts;
  std::vector<float> DensePacked;
  struct {
    int64_t steps = 0, clipped = 0;
    double sum = 0, max = 0;
  } ClipStats;
  struct {
    int64_t steps = 0;
    double seconds = 0, waited = 0;
  } DenseStats;
};

/// The per-step seed value: an integer < 2^24, exact in a float.
uint32_t stepSeed(uint64_t planSeed, int64_t step);

} // namespace recc::rt
