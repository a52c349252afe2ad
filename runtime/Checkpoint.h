// Checkpoint: saves and restores a ModelState as one safetensors file.
// Tensors (all F32):
//   <param>                  dense parameters, by plan name
//   <table>                  embedding tables [rows, dim]; a dynamic table:
//                            its touched rows [n, dim] with their ids in
//                            ids/<table> (I64 [n]), DynamicCheckpoint.h
//   adam_m/<name>, adam_v/<name>, adagrad_acc/<name>
//                            optimizer state of a parameter or table, present
//                            once it has been updated
//   state/<state>            model state (ModelPlan::states): running
//                            statistics and EMA shadows (a table's shadow
//                            written with every row caught up to `step`)
//   ema_raw/<state>, ema_step/<state> (I64 [rows])
//                            a table shadow's lazy state (its rows as held,
//                            each row's step), restored by a resume so later
//                            catch-ups round as in an uninterrupted run
//   feature_stats/<feature>  [mean, stddev] of a zscore/tanh_zscore feature, once
//                            computed (training computes them before its first
//                            step; evaluation refuses to run without them)
// Metadata: format "recc-checkpoint", format_version, model, step, epoch,
// optimizer, and the plan as JSON (so a checkpoint documents itself);
// training adds its position and best evaluation (CheckpointPolicy.h).
// Writing is atomic (AtomicFile.h): a failed save leaves the previous
// checkpoint intact. Loading validates before it changes anything: wrong
// model, missing tensors and shape mismatches are reported by name, e.g.
//   ckpt.safetensors: tensor 'tower1.w0' has shape [696,512] in checkpoint but
//   [512,512] in model
#pragma once

#include "runtime/ModelState.h"

#include <map>
#include <string>
#include <vector>

namespace recc::rt {

/// The version written to and accepted from checkpoint metadata.
inline constexpr const char* kCheckpointFormatVersion = "1";

/// Writes `state` to `path` atomically; `extra` adds metadata entries
/// (training's position and best evaluation, CheckpointPolicy.h).
void saveCheckpoint(const std::string& path, const ModelState& state,
                    const std::map<std::string, std::string>& extra = {});

struct LoadOptions {
  /// Parameter transfer (pre-train -> fine-tune, `--init-from`): load every
  /// parameter and table by name (each must be present, shapes checked; the
  /// missing ones are listed together), model state and feature statistics
  /// where present, skip the model-name check, ignore tensors the model does
  /// not have, and leave optimizer state and step/epoch counters fresh.
  bool transfer = false;
  /// Load NaN or infinite values; by default a checkpoint holding any is
  /// refused, naming the tensor and the element.
  bool allowNonFinite = false;
};

/// Restores `state` from `path`; throws a RuntimeError (and changes nothing)
/// if the checkpoint does not fit the model.
void loadCheckpoint(const std::string& path, ModelState& state,
                    const LoadOptions& options = {});

/// The metadata of a checkpoint (model, step, epoch, plan, ...), validated
/// like a load; lets a driver rebuild the plan from a checkpoint alone.
std::map<std::string, std::string> readCheckpointMetadata(const std::string& path);

/// The files of checkpoint `path`: itself, then the other ranks' files of a
/// checkpoint written with --shard-tables (just `path` if it cannot tell).
std::vector<std::string> checkpointFiles(const std::string& path);

} // namespace recc::rt
