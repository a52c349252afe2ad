// CompileModel: parse → check → build graphs → shapes → autodiff → plan.
#include "compiler/passes/CompileModel.h"

#include "compiler/passes/Autodiff.h"
#include "compiler/passes/BuildGraph.h"
#include "compiler/passes/ShapeInference.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"

#include <fstream>
#include <sstream>

namespace recc {

static rt::BufferSpec::Role bufferRole(ValueRole role) {
  using R = rt::BufferSpec::Role;
  switch (role) {
  case ValueRole::Feature: return R::Feature;
  case ValueRole::EmbeddingRows: return R::EmbeddingRows;
  case ValueRole::Label: return R::Label;
  case ValueRole::Param: return R::Param;
  case ValueRole::Seed: return R::Seed;
  case ValueRole::Output: return R::Output;
  case ValueRole::Loss: return R::Loss;
  case ValueRole::LossTerm: return R::LossTerm;
  case ValueRole::Gradient: return R::Gradient;
  }
  return R::Output;
}

rt::StepSpec stepSpecOf(const Graph& graph, const std::string& symbol) {
  rt::StepSpec spec;
  spec.symbol = symbol;
  for (const auto* list : {&graph.inputs(), &graph.outputs()})
    for (const Binding& b : *list)
      spec.buffers.push_back({bufferRole(b.role), b.name, graph.node(b.node).shape.dims});
  return spec;
}

std::optional<CompiledModel> compileModelSource(const std::string& file, const std::string& text,
                                                const std::string& modelName,
                                                DiagnosticEngine& diag) {
  diag.addSource(file, text);
  auto program = parseProgram(file, text, diag);
  if (!program || diag.hasErrors()) return std::nullopt;
  if (!checkProgram(*program, diag)) return std::nullopt;
  auto train = buildGraph(*program, modelName, GraphMode::Train, diag);
  if (!train || diag.hasErrors()) return std::nullopt;
  auto eval = buildGraph(*program, modelName, GraphMode::Eval, diag);
  if (!eval || diag.hasErrors()) return std::nullopt;
  if (!inferShapes(train->graph, diag) || !inferShapes(eval->graph, diag)) return std::nullopt;

  CompiledModel m{std::move(train->graph), std::move(eval->graph), std::move(train->plan)};
  differentiate(m.trainGraph);
  m.plan.trainStep = stepSpecOf(m.trainGraph, kTrainSymbol);
  m.plan.evalStep = stepSpecOf(m.evalGraph, kEvalSymbol);
  return m;
}

std::optional<CompiledModel> compileModelFile(const std::string& path,
                                              const std::string& modelName,
                                              DiagnosticEngine& diag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diag.error(SourceLoc{path, 0, 0}, "cannot open model file");
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return compileModelSource(path, ss.str(), modelName, diag);
}

} // namespace recc
