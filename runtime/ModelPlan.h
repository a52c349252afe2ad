// ModelPlan: the contract between the compiler and the runtime. The compiler
// turns a .rec model into a ModelPlan (what to read, which tables and dense
// parameters exist, how to optimize, what to evaluate) plus step functions whose
// buffers are listed here in calling order. The runtime needs nothing else, so a
// standalone trainer (recc compile) carries only this plan, serialized as JSON,
// next to its object code, and never links the parser or the compiler.
#pragma once

#include "runtime/BatchSizes.h"

#include <cstdint>
#include <string>
#include <vector>

namespace recc::rt {

/// How a column of the data file is turned into a model input.
struct FeatureSpec {
  enum class Kind { Categorical, MultiCategorical, Dense };
  std::string name;     ///< name in the model
  std::string column;   ///< header name in the data file
  Kind kind = Kind::Dense;
  int64_t vocab = 0;    ///< Categorical/MultiCategorical: ids must be in [0, vocab)
  int64_t maxLen = 0;   ///< MultiCategorical: ids per row (padded/truncated), '|'-separated
  std::string table;    ///< Categorical/MultiCategorical: the embedding table it reads
  /// Dense: "none", "zscore" ((x-mu)/sigma), "tanh_zscore" (tanh of it;
  /// mu/sigma from the training data, kept in the checkpoint) or "log1p".
  std::string transform = "none";
  /// MultiCategorical with words > 0: each of the maxLen elements is a bag of
  /// up to `words` ids (ZEUS's word segments), read as [maxLen, words].
  int64_t words = 0;
  /// The input stream it is read from: 0 for the model's own inputs, k for
  /// the k-th `stream` block's (training reads it from that stream's file).
  int64_t stream = 0;
  /// Categorical/MultiCategorical: how a cell's text becomes an id
  /// (runtime/IdLookup.h): "" integers below vocab; "hash" Fingerprint64 of
  /// the text modulo vocab (id(hash = N)); "vocab" the 1-based line of the
  /// text in vocabFile, 0 for text not in it (id(vocab = "file")); "bucketize"
  /// the number of boundaries at or below the cell's number.
  std::string lookup;
  std::string vocabFile;           ///< lookup "vocab": the file, as resolved at compile time
  std::vector<double> boundaries;  ///< lookup "bucketize": strictly increasing
  /// `na = x`: the value an empty cell stands for (an id for id inputs, a raw
  /// value for dense ones); without it an empty cell is an error.
  bool hasNa = false;
  double na = 0;
};

/// Ids per data row of a categorical feature: 1 (Categorical), maxLen
/// (MultiCategorical), maxLen * words (a bag of words per element); 0 for a
/// dense feature.
inline int64_t idsPerRow(const FeatureSpec& f) {
  if (f.kind == FeatureSpec::Kind::Dense) return 0;
  if (f.kind == FeatureSpec::Kind::Categorical) return 1;
  return f.words > 0 ? f.maxLen * f.words : f.maxLen;
}

struct LabelSpec {
  std::string name;
  std::string column;
  int64_t stream = 0;  ///< as FeatureSpec::stream
};

/// A `stream NAME [batch = N] { ... }` block: a second input stream whose
/// batches a training step draws besides the source's (docs/streams.md).
/// Stream k of the plan is streams[k - 1].
struct StreamSpec {
  std::string name;
  int64_t batchSize = 0;  ///< rows per training step; 0: the plan's batchSize
};

struct InitSpec {
  std::string kind = "glorot_uniform";  ///< glorot_uniform | uniform | normal | zeros | ones
  double scale = 0.05;                 ///< bound for uniform, stddev for normal
};

/// A table's weights above this many bytes (rows x dim x 4) make it dynamic
/// unless it is declared `dense`: ZEUS's 10^8 x 32 tables (12 GiB of weights,
/// twice that with Adagrad) would not fit densely, and no data set touches
/// more than a small part of them.
inline constexpr int64_t kDynamicTableBytes = int64_t(1) << 30;

/// The storage a table gets when its declaration does not choose one.
inline bool dynamicByDefault(int64_t rows, int64_t dim) {
  return rows > kDynamicTableBytes / 4 / dim;  // rows * dim * 4 > 2^30, without overflow
}

struct TableSpec {
  std::string name;
  int64_t rows = 0;
  int64_t dim = 0;
  InitSpec init{"uniform", 0.05};
  /// Rows allocated when first touched (a hash map from id to paged row
  /// storage, runtime/DynamicRows.h) instead of one dense [rows, dim] buffer.
  bool dynamic = false;
};

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  InitSpec init;
};

struct OptimizerSpec {
  std::string kind = "adam";  ///< adam | adagrad | sgd (tables get the lazy/sparse variant)
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double initialAccumulator = 0.1;  ///< adagrad
};

/// One buffer of a step function, in calling order.
/// State inputs are model state (StateSpec) the step reads: the whole state,
/// or, with `ids`, the rows of an EMA shadow table for that feature's ids.
/// A StateUpdate output is the new value of the state of the same name,
/// copied into it after a train step. Progress is the scalar training
/// progress p in [0,1]. BatchSlice is [first row, rows] of a stream's global
/// batch that this process runs (dropout masks index the global batch).
struct BufferSpec {
  enum class Role {
    Feature, EmbeddingRows, Label, Param, Seed, State, Progress, BatchSlice,  // inputs
    Output, Loss, LossTerm, Gradient, StateUpdate                 // outputs
  };
  Role role;
  std::string name;            ///< feature/label/param/table-feature/output/state name
  std::vector<int64_t> shape;  ///< -1 marks the batch dimension
  std::string ids = {};        ///< State rows of a shadow table: the id feature
};

/// A compiled function: train_step (forward + backward) or eval_step (forward).
struct StepSpec {
  std::string symbol;              ///< C symbol of the compiled function
  std::vector<BufferSpec> buffers; ///< inputs first, then outputs
};

/// A metric reported by evaluation, e.g. CVR AUC on clicked impressions
/// (formulas in Metrics.h). groupColumn groups gauc's rows (the metric is the
/// weighted mean of the groups' AUCs, `reduce`) and a ranking metric's
/// requests; for the other binary metrics it names a breakdown: the metric is
/// also reported over each group's rows. Ranking metrics (recall, precision, hitrate, ndcg, mrr, map) score a top_k
/// output, the retrieved item ids best first, against the relevant item id
/// of each row (targetColumn); rows of one request (groupColumn, else each
/// row alone) pool their targets, and the metric is the mean over requests.
struct MetricSpec {
  std::string name;    ///< e.g. "cvr_auc"
  /// auc | gauc | logloss | ne | calibration | ctr | pctr |
  /// recall | precision | hitrate | ndcg | mrr | map
  std::string kind;
  std::string output;  ///< the model output scored (ranking: the top_k output)
  std::string label;   ///< the label column name (model label name); empty for ranking
  std::string filterLabel;  ///< optional: keep rows where this label == 1
  std::string groupColumn;  ///< data column grouping rows (e.g. user id, scenario); see above
  std::string targetColumn; ///< ranking: data column of the relevant item id
  int64_t k = 0;            ///< ranking: cut-off, at most the top_k output's width
  /// gauc: mean | mean_by_sample_num | mean_by_positive_num (empty: mean).
  std::string reduce = {};
};

/// Model state: tensors the runtime keeps across steps but no optimizer
/// updates. kind "running_stat": batch_norm's running mean or variance, or
/// a running_mean, updated by the train step's state_update output of the
/// same name (decay = momentum);
/// kind "ema": the EMA shadow of parameter or table `of`, updated as
/// decay * shadow + (1 - decay) * source after each optimizer step (a table's
/// lazily, for the rows the step touched; see runtime/StateStore.h).
struct StateSpec {
  std::string name;  ///< the graph's state input, e.g. "z.batch_norm0.mean", "user_emb.ema"
  std::string kind;  ///< running_stat | ema
  std::vector<int64_t> shape;
  std::string of;      ///< ema: the shadowed parameter or table
  bool table = false;  ///< ema of an embedding table: the runtime gathers its rows
  double decay = 0.99;
  InitSpec init{"zeros", 0.0};  ///< running_stat; an ema shadow starts as a copy of `of`
};

struct ModelPlan {
  std::string model;  ///< model name
  std::vector<FeatureSpec> features;
  std::vector<LabelSpec> labels;
  std::vector<TableSpec> tables;
  std::vector<ParamSpec> params;
  OptimizerSpec optimizer;
  int64_t batchSize = 256;
  int64_t epochs = 1;
  /// `train { clip_norm = X }`: before each optimizer step, every gradient of
  /// the step (dense parameters and the touched embedding rows, duplicates of
  /// an id summed) is scaled by min(1, X / (norm + 1e-6)), norm being their
  /// global L2 norm (PyTorch's clip_grad_norm_; runtime/GradientClip.h).
  /// 0: no clipping.
  double clipNorm = 0;
  uint64_t seed = 42;
  std::vector<MetricSpec> metrics;
  std::vector<StateSpec> states;
  /// The model's other input streams (none for most models).
  std::vector<StreamSpec> streams;
  /// Stage transfer (`train { init = m  freeze = [...] }`): the model whose
  /// trained parameters and tables this one starts from (empty: none), and
  /// the tables and values held fixed (they have no Gradient buffer).
  std::string initFrom;
  std::vector<std::string> frozen;
  /// `columns [...]`: the data files have no header row; their fields are
  /// these columns, in order (Criteo's layout). Empty: files have a header.
  std::vector<std::string> columns;
  /// With columns: "tab", "comma", or "" (by the file's extension, else
  /// whichever of the two the first line has more of).
  std::string delimiter;
  StepSpec trainStep;
  StepSpec evalStep;
};

/// Rows per training step of stream k (0: the source, plan.batchSize).
int64_t streamBatch(const ModelPlan& plan, size_t k);
/// The train step's batch sizes: the source's, then each stream's.
BatchSizes trainBatches(const ModelPlan& plan);
/// The plan of one rank's train step under `mpirun -np ranks`: every
/// stream's batch divided by `ranks` (docs/distributed.md); throws naming the
/// stream whose batch does not split evenly.
ModelPlan rankSlice(const ModelPlan& plan, int ranks);

/// True if `freeze = [...]` holds parameter or table `name` fixed: a listed
/// table, or a parameter of a listed value (`name` or `name.*`).
bool isFrozen(const ModelPlan& plan, const std::string& name);

/// Index of the Categorical feature read from ranking metric `m`'s
/// targetColumn (its ids are the relevant items), or -1 if there is none.
int targetFeature(const ModelPlan& plan, const MetricSpec& m);

std::string toJson(const ModelPlan& plan);
/// Throws std::runtime_error naming the offending field on malformed input.
ModelPlan planFromJson(const std::string& json);

} // namespace recc::rt
