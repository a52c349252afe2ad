// OnnxExport: the serving graph of a trained model as an ONNX model (opset 17).
// The serving graph is the eval graph cut down to what the model's outputs
// need (no losses, labels, train-only nets or dropout), with the checkpoint's
// values as initializers: dense parameters, embedding tables, batch-norm
// running statistics (folded in as constants) and the dense features'
// statistics (the zscore/tanh_zscore/log1p transforms are in the graph).
//
// Inputs, one per feature the outputs read, batch axis "N":
//   id features     int64 [N], [N,L] or [N,L,W], ids as `recc predict` sees
//                   them after hashing / vocabulary lookup / bucketizing (the
//                   reader does those, before the graph); -1 pads a
//                   multi-valued feature and reads as a zero embedding row
//   dense features  float [N], raw values (empty cells already given their
//                   `na` default); the transform is applied in the graph
// Outputs: the model's outputs by name, float [N, ...].
// Weights live in the model file while they fit its 2 GB protobuf limit,
// else (or with `external`) in a side file "<model>.data" (ONNX external
// data). See docs/export.md.
#pragma once

#include "compiler/passes/CompileModel.h"
#include "runtime/ModelState.h"

#include <cstdint>
#include <string>

namespace recc::onnxexp {

struct ExportOptions {
  /// Store weights of 1 KiB and more in "<path>.data" even when they fit.
  bool external = false;
  /// The ONNX graph's name; the model's if empty.
  std::string name;
};

struct ExportSummary {
  int64_t nodes = 0;          ///< ONNX nodes written
  int64_t inputs = 0, outputs = 0;
  int64_t weightBytes = 0;    ///< bytes of parameters, tables and state
  std::string sideFile;       ///< the external data file, if one was written
};

/// Weights above this many bytes do not fit in the model file (protobuf
/// messages stop at 2 GiB; the rest of the model needs a little room).
inline constexpr int64_t kInlineWeightLimit = (int64_t(2) << 30) - (int64_t(64) << 20);

/// Checks, before any checkpoint is read, that the serving graph of `model`
/// can be written: every op it needs maps to ONNX and every table it reads
/// is dense. Throws ExportError naming the first op (and its source
/// position) or table that cannot.
void checkExportable(const CompiledModel& model, const Graph& graph);

/// Writes the serving form of `graph` (`model`'s eval graph, or one of its
/// retrieval towers, compiler/passes/Towers.h) with the values of `state`
/// to `path` (atomically, as checkpoints are). Throws ExportError (OnnxOps.h) naming
/// an op without ONNX mapping and its source position, or a RuntimeError.
ExportSummary exportOnnx(const CompiledModel& model, const Graph& graph,
                         const rt::ModelState& state, const std::string& path,
                         const ExportOptions& options = {});

} // namespace recc::onnxexp
