// Export: `recc export model.rec --ckpt c.safetensors -o model.onnx` writes
// the serving graph of a trained model as ONNX (compiler/export, docs/export.md).
#pragma once

#include "compiler/passes/CompileModel.h"

#include <CLI/CLI.hpp>

#include <string>

namespace recc {

struct ExportArgs {
  std::string checkpoint;
  std::string output;
  bool external = false;  ///< weights in "<output>.data" even when they fit
  bool allowNonFinite = false;
  std::string tower;  ///< "user" or "item": a retrieval tower instead of the eval graph
};

void addExportFlags(CLI::App& cmd, ExportArgs& a);

/// Loads the checkpoint into `model`'s state and writes `graph` (its eval
/// graph or a tower, named `name`) as ONNX; returns the exit code.
int runExport(const CompiledModel& model, const Graph& graph, const std::string& name,
              const ExportArgs& a);

} // namespace recc
