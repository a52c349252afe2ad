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
};

void addExportFlags(CLI::App& cmd, ExportArgs& a);

/// Loads the checkpoint into `model`'s state and writes the ONNX file;
/// returns the exit code (1 after printing the error).
int runExport(const CompiledModel& model, const ExportArgs& a);

} // namespace recc
