// BuildGraph: lowers one model of a checked AST to the graph IR and fills the
// runtime's ModelPlan (features, labels, tables, parameters, optimizer,
// metrics). Every builtin of the language becomes a composition of primitive
// ops from compiler/ops/OpList.def; block calls are inlined, each call getting
// its own parameters.
//
// Algorithm:
//   1. The program has passed Sema (checkProgram): compileModelSource checks
//      it once for both graphs and calls buildCheckedGraph; buildGraph runs
//      checkProgram first for callers that did not.
//   2. Index the model's inputs, labels, tables and blocks (and the top-level
//      tables and blocks).
//   3. Walk the model's assignments and losses in order, evaluating each
//      expression to a Value (tensor node, number, table, id input). Inputs,
//      labels and embedding rows become Input nodes on first use; `dense` and
//      `mlp` create Param nodes; every node's shape is inferred as it is added
//      and a ShapeError is reported at the expression that made the node (so
//      a built graph needs no second shape inference).
//   4. Bind outputs, loss terms and the weighted total loss, fill the plan's
//      metrics and train settings, and mark the end of the forward graph.
//
// Parameter names: a parameter is named by the path of the statement that
// creates it — the assigned value (or loss) name, then for each block call the
// instance name, then `<builtin><k>` numbering the calls of that builtin within
// the statement in evaluation order (inner calls first), then the layer:
//   y1 = tower(g)                       -> y1.mlp0.l0.w ... y1.mlp0.l3.b,
//                                          y1.dense0.w, y1.dense0.b
//   h = dense(dense(x, 8), 1)           -> h.dense0.* (the inner, first layer), h.dense1.*
//   z = f(x) + f(x)  (f a block)        -> z.f0.dense0.w, z.f1.dense0.w
//   inside a block: local `u = dense(x, 4)` in instance y1 -> y1.u.dense0.w
// A block call that is the whole right-hand side of a statement takes the
// statement's name as its instance name (y1.*, not y1.tower0.*).
#pragma once

#include "compiler/ir/Graph.h"
#include "dsl/AST.h"
#include "dsl/Diagnostics.h"
#include "runtime/ModelPlan.h"

#include <optional>
#include <string>

namespace recc {

/// Train builds dropout as dropout ops fed by the per-step seed; Eval makes
/// dropout the identity. Both build the losses, so evaluation can report them.
enum class GraphMode { Train, Eval };

/// Program-level settings of a model (the ModelPlan carries them too).
struct StageSpec {
  std::string initFrom;  ///< `train { init = m }`: start from model m's trained parameters
  SourceLoc initLoc;
  std::vector<std::string> frozen;   ///< `train { freeze = [...] }`: tables and value prefixes
  std::vector<std::string> streams;  ///< `stream NAME { ... }` blocks, in order (batch B1, B2, ...)
};

struct BuiltModel {
  Graph graph;
  rt::ModelPlan plan;  ///< everything but trainStep/evalStep
  StageSpec stage;
};

/// Builds model `modelName` of `prog` ("" = the first model), a program that
/// checkProgram accepted. Returns nullopt after reporting errors to `diag`.
std::optional<BuiltModel> buildCheckedGraph(const ast::Program& prog,
                                            const std::string& modelName, GraphMode mode,
                                            DiagnosticEngine& diag);

/// As buildCheckedGraph, for a program that may not have been checked: runs
/// checkProgram first, so that such a caller gets Sema's errors instead of a
/// crash.
std::optional<BuiltModel> buildGraph(const ast::Program& prog, const std::string& modelName,
                                     GraphMode mode, DiagnosticEngine& diag);

} // namespace recc
