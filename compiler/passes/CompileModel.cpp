// CompileModel: parse → check → build graphs → shapes → autodiff → plan.
#include "compiler/passes/CompileModel.h"

#include "compiler/passes/Autodiff.h"
#include "compiler/passes/BuildGraph.h"
#include "compiler/ops/OpDef.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"
#include "runtime/Error.h"
#include "runtime/FileRead.h"

namespace recc {

/// The runtime's buffer role of a binding; false for roles it has none for.
static bool bufferRole(ValueRole role, rt::BufferSpec::Role& out) {
  using R = rt::BufferSpec::Role;
  out = R::Output;
  switch (role) {
  case ValueRole::Feature: out = R::Feature; return true;
  case ValueRole::EmbeddingRows: out = R::EmbeddingRows; return true;
  case ValueRole::Label: out = R::Label; return true;
  case ValueRole::Param: out = R::Param; return true;
  case ValueRole::Seed: out = R::Seed; return true;
  case ValueRole::Output: out = R::Output; return true;
  case ValueRole::Loss: out = R::Loss; return true;
  case ValueRole::LossTerm: out = R::LossTerm; return true;
  case ValueRole::Gradient: out = R::Gradient; return true;
  case ValueRole::State: out = R::State; return true;
  case ValueRole::StateUpdate: out = R::StateUpdate; return true;
  case ValueRole::Progress: out = R::Progress; return true;
  case ValueRole::BatchSlice: out = R::BatchSlice; return true;
  }
  return false;
}

rt::StepSpec stepSpecOf(const Graph& graph, const std::string& symbol) {
  rt::StepSpec spec;
  spec.symbol = symbol;
  for (const auto* list : {&graph.inputs(), &graph.outputs()})
    for (const Binding& b : *list)
      if (rt::BufferSpec::Role role; bufferRole(b.role, role)) {
        const Node& n = graph.node(b.node);
        // Rows of an EMA shadow table: the runtime gathers them by these ids.
        std::string ids = b.role == ValueRole::State ? n.attrs.getString("ids") : "";
        spec.buffers.push_back({role, b.name, n.shape.dims, ids});
      }
  return spec;
}

std::optional<CompiledModel> compileModelSource(const std::string& file, const std::string& text,
                                                const std::string& modelName,
                                                DiagnosticEngine& diag) {
  diag.addSource(file, text);
  auto program = parseProgram(file, text, diag);
  if (!program || diag.hasErrors()) return std::nullopt;
  // Sema runs once, for both graphs; shapes are inferred once, as the
  // builder adds each node (a built graph has every shape).
  if (!checkProgram(*program, diag)) return std::nullopt;
  return compileCheckedProgram(*program, modelName, diag);
}

std::optional<CompiledModel> compileCheckedProgram(const ast::Program& program,
                                                   const std::string& modelName,
                                                   DiagnosticEngine& diag) {
  auto train = buildCheckedGraph(program, modelName, GraphMode::Train, diag);
  if (!train || diag.hasErrors()) return std::nullopt;
  auto eval = buildCheckedGraph(program, modelName, GraphMode::Eval, diag);
  if (!eval || diag.hasErrors()) return std::nullopt;

  CompiledModel m{std::move(train->graph), std::move(eval->graph), std::move(train->plan),
                  std::move(train->stage)};
  // A dense input only training reads (SAR-Net's fc, under train_only) is not
  // an input of the eval step, so evaluation data need not have its column.
  m.evalGraph.unbindDeadInputs(ValueRole::Feature);
  m.evalGraph.unbindDeadInputs(ValueRole::EmbeddingRows);
  try {
    differentiate(m.trainGraph);
  } catch (const AutodiffError& e) {
    diag.error(e.loc, e.what());
    return std::nullopt;
  }
  m.plan.trainStep = stepSpecOf(m.trainGraph, kTrainSymbol);
  m.plan.evalStep = stepSpecOf(m.evalGraph, kEvalSymbol);
  return m;
}

std::optional<CompiledModel> compileModelFile(const std::string& path,
                                              const std::string& modelName,
                                              DiagnosticEngine& diag) {
  std::string text;
  try {
    text = rt::readWholeFile(path, "model file");
  } catch (const rt::RuntimeError& e) {
    // The message starts with the path, which the diagnostic prints itself.
    std::string_view why = e.what();
    if (why.starts_with(path + ": ")) why.remove_prefix(path.size() + 2);
    diag.error(SourceLoc{path, 0, 0}, std::string(why));
    return std::nullopt;
  }
  return compileModelSource(path, text, modelName, diag);
}

} // namespace recc
