// CompileModel: the front half of the pipeline in one call — parse, check,
// build the train graph (forward with dropout + Autodiff's backward) and the
// eval graph (forward only), and complete the runtime's ModelPlan with the
// buffer lists of both step functions. Every driver command starts here.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/passes/BuildGraph.h"
#include "dsl/Diagnostics.h"
#include "runtime/ModelPlan.h"

#include <optional>
#include <string>

namespace recc {

struct CompiledModel {
  Graph trainGraph;  ///< forward (train mode) + backward; outputs include Gradients
  Graph evalGraph;   ///< forward (eval mode): outputs, loss terms, loss
  rt::ModelPlan plan;
  StageSpec stage;   ///< init/freeze/streams as the builder read them
};

inline constexpr const char* kTrainSymbol = "recc_train_step";
inline constexpr const char* kEvalSymbol = "recc_eval_step";

/// Compiles model `modelName` ("" = the first model) of `text` (named `file`
/// in diagnostics). Returns nullopt after reporting errors to `diag`.
std::optional<CompiledModel> compileModelSource(const std::string& file, const std::string& text,
                                                const std::string& modelName,
                                                DiagnosticEngine& diag);

/// The rest of compileModelSource for a program already parsed and checked
/// (checkProgram): a driver or a fuzzer compiling several models of one file
/// parses and checks it once.
std::optional<CompiledModel> compileCheckedProgram(const ast::Program& program,
                                                   const std::string& modelName,
                                                   DiagnosticEngine& diag);

/// Reads `path` and compiles it; an unreadable file is reported as an error.
std::optional<CompiledModel> compileModelFile(const std::string& path,
                                              const std::string& modelName,
                                              DiagnosticEngine& diag);

/// The buffer list of a step function over `graph`: inputs, then outputs.
/// Bindings the runtime has no buffer role for are left out.
rt::StepSpec stepSpecOf(const Graph& graph, const std::string& symbol);

} // namespace recc
