// recc: the driver. Every command starts from CompileModel (parse → check →
// graphs → autodiff → plan); then
//   check      prints a summary (or the AST),
//   graph      prints the train/eval graph as text or Graphviz (or renders it
//              through Graphviz's dot: --png/--svg FILE),
//   emit-mlir  prints the MLIR after a lowering stage,
//   train/eval/predict run the shared TrainerApp commands on a backend,
//   compile    writes a standalone native trainer (Aot.cpp),
//   export     writes the serving graph as ONNX (Export.cpp),
//   bench      measures training throughput per backend (Bench.cpp),
//   bench-retrieval  times the exact top-K of retrieval (BenchRetrieval.cpp),
//   plot       draws a --log file's training curves through gnuplot (Plot.cpp).
// Compile errors print clang-style with a caret and exit 1.
#include "compiler/exec/StepReplay.h"
#include "compiler/ir/GraphPrinter.h"
#include "compiler/tools/Aot.h"
#include "compiler/tools/Backends.h"
#include "compiler/tools/Bench.h"
#include "compiler/tools/Export.h"
#include "compiler/tools/BenchRetrieval.h"
#include "compiler/tools/Plot.h"
#include "compiler/tools/Summary.h"
#include "dsl/ASTPrinter.h"
#include "dsl/Parser.h"
#include "runtime/AtomicFile.h"
#include "runtime/CliChecks.h"
#include "runtime/Cluster.h"
#include "runtime/External.h"
#include "runtime/FileRead.h"
#ifdef RECC_HAVE_MLIR
#include "compiler/mlir/Backend.h"
#endif

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <sstream>

using namespace recc;

namespace {

struct ModelArgs {
  std::string file;
  std::string model;
  int64_t batch = 0;  ///< overrides the model's batch size when > 0
};

/// --batch: overrides the model's batch size (which the language bounds the same way).
void addBatchFlag(CLI::App& cmd, ModelArgs& m, const std::string& help) {
  cmd.add_option("--batch", m.batch, help)->check(rt::intRange(1, rt::kMaxBatch));
}

/// --threads of code generation: 1, or 2 to split large GEMMs between two threads.
void addCodegenThreadsFlag(CLI::App& cmd, int& threads) {
  cmd.add_option("--threads", threads, "threads for large GEMMs (1 or 2)")
      ->check(rt::intRange(1, 2));
}

void addModelArgs(CLI::App& cmd, ModelArgs& m) {
  cmd.add_option("model_file", m.file, "the .rec file")->required();
  cmd.add_option("--model", m.model, "which model of the file (default: the first)");
}

/// Compiles or exits 1 with the diagnostics already printed.
CompiledModel compileOrExit(const ModelArgs& m) {
  DiagnosticEngine diag(&std::cerr);
  auto compiled = compileModelFile(m.file, m.model, diag);
  if (!compiled) {
    std::cerr << diag.errorCount() << " error" << (diag.errorCount() == 1 ? "" : "s")
              << " generated.\n";
    std::exit(1);
  }
  if (m.batch > 0) compiled->plan.batchSize = m.batch;
  return std::move(*compiled);
}

/// The towers of a model's top_k outputs for --corpus, or exit 1 with the
/// diagnostics printed.
Towers towersOrExit(const CompiledModel& model, const std::string& file) {
  DiagnosticEngine diag(&std::cerr);
  diag.addSource(file, rt::readWholeFile(file, "model file"));
  auto towers = deriveTowers(model, file, diag);
  if (!towers) {
    std::cerr << diag.errorCount() << " error" << (diag.errorCount() == 1 ? "" : "s")
              << " generated.\n";
    std::exit(1);
  }
  return std::move(*towers);
}

int cmdCheck(const ModelArgs& m, bool ast) {
  if (ast) {
    DiagnosticEngine diag(&std::cerr);
    std::string text = rt::readWholeFile(m.file, "model file");
    diag.addSource(m.file, text);
    auto program = parseProgram(m.file, text, diag);
    if (program) printAst(*program, std::cout);
    return diag.hasErrors() ? 1 : 0;
  }
  CompiledModel model = compileOrExit(m);
  printSummary(model, std::cout);
  // A model that would not fit here is refused now, not by LLVM or the
  // allocator once training starts.
  rt::checkMemory(model.plan, estimateStepMemory(model));
  return 0;
}

/// `recc graph --png/--svg FILE`: the Graphviz text rendered by dot.
struct GraphPicture {
  std::string png, svg;
};

int renderGraph(const Graph& g, const std::string& title, const GraphPicture& picture) {
  const bool png = !picture.png.empty();
  const std::string& out = png ? picture.png : picture.svg;
  const char* flag = png ? "--png" : "--svg";
  rt::checkCanWrite(flag, out);
  std::ostringstream text;
  printDot(g, title, text);
  rt::runExternal({"dot", "graphviz", std::string("recc graph ") + flag},
              {png ? "-Tpng" : "-Tsvg", "-o", out}, text.str());
  rt::checkWritten(out, "dot");
  return 0;
}

int cmdGraph(const ModelArgs& m, bool dot, bool eval, bool forwardOnly, bool locations,
             const GraphPicture& picture) {
  CompiledModel model = compileOrExit(m);
  const Graph& g = eval ? model.evalGraph : model.trainGraph;
  std::string title = model.plan.model + (eval ? ".eval" : ".train");
  if (!picture.png.empty() || !picture.svg.empty()) return renderGraph(g, title, picture);
  if (dot) printDot(g, title, std::cout);
  else printGraph(g, title, std::cout, {.locations = locations, .backward = !forwardOnly});
  return 0;
}

int cmdEmitMlir(const ModelArgs& m, const std::string& stage, bool eval, int threads, int lanes) {
#ifdef RECC_HAVE_MLIR
  CompiledModel model = compileOrExit(m);
  try {
    CodegenOptions options;
    options.threads = threads;
    options.lanes = lanes;
    emitMlir(eval ? model.evalGraph : model.trainGraph,
             eval ? rt::BatchSizes(model.plan.batchSize) : rt::trainBatches(model.plan), stage,
             std::cout, options, eval ? kEvalSymbol : kTrainSymbol);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
#else
  (void)m, (void)stage, (void)eval, (void)threads, (void)lanes;
  std::cerr << "error: this recc was built without the MLIR backend\n";
  return 1;
#endif
}

} // namespace

int main(int argc, char** argv) {
  rt::ClusterScope cluster(&argc, &argv);  // under mpirun: one rank of the job
  CLI::App app{"recc: a compiler and native trainer for recommendation models"};
  app.require_subcommand(1);
  ModelArgs m;
  std::string backend = "mlir", stage = "linalg", output;
  bool ast = false, dot = false, eval = false, forwardOnly = false, locations = false;
  int threads = 0;
  int lanes = 0;
  int ranks = 1;
  rt::TrainArgs trainArgs;
  rt::EvalArgs evalArgs;
  BenchArgs benchArgs;
  ExportArgs exportArgs;
  BenchRetrievalArgs benchRetrievalArgs;
  GraphPicture picture;
  PlotArgs plotArgs;

  const CLI::IsMember backendNames(std::vector<std::string>{"mlir", "reference"});

  auto* check = app.add_subcommand("check", "parse, type- and shape-check a model; print a summary");
  addModelArgs(*check, m);
  check->add_flag("--ast", ast, "print the syntax tree instead");

  auto* graph = app.add_subcommand("graph", "print the graph IR (train graph with gradients)");
  addModelArgs(*graph, m);
  graph->add_flag("--dot", dot, "Graphviz output");
  graph->add_flag("--eval", eval, "the eval graph (no dropout, no gradients)");
  graph->add_flag("--forward", forwardOnly, "omit the backward pass");
  graph->add_flag("--locations", locations, "print source locations");
  auto* pngFlag = graph->add_option("--png", picture.png, "render the graph to a PNG file (Graphviz's dot)");
  graph->add_option("--svg", picture.svg, "render the graph to an SVG file (Graphviz's dot)")
      ->excludes(pngFlag);

  auto* emit = app.add_subcommand("emit-mlir", "print the MLIR after a lowering stage");
  addModelArgs(*emit, m);
  emit->add_option("--stage", stage, "linalg | bufferized | vectorized | llvm | llvmir");
  emit->add_flag("--eval", eval, "the eval step instead of the train step");
  addBatchFlag(*emit, m, "batch size to compile for");
  addCodegenThreadsFlag(*emit, threads);
  emit->add_option("--lanes", lanes, "f32 lanes to tile for: 16 (AVX-512), 8 (AVX2); default: the host's")
      ->check(CLI::IsMember({8, 16}));

  auto* train = app.add_subcommand("train", "train a model on a data file");
  addModelArgs(*train, m);
  rt::addTrainFlags(*train, trainArgs);
  train->add_option("--backend", backend, "mlir | reference")->check(backendNames);
  addBatchFlag(*train, m, "batch size (default: the model's)");

  auto* evalCmd = app.add_subcommand("eval", "metrics of a checkpoint on a data file");
  addModelArgs(*evalCmd, m);
  rt::addEvalFlags(*evalCmd, evalArgs, false, /*retrieval=*/true);
  evalCmd->add_option("--backend", backend, "mlir | reference")->check(backendNames);

  auto* predict = app.add_subcommand("predict", "scores of a checkpoint on a data file");
  addModelArgs(*predict, m);
  rt::addEvalFlags(*predict, evalArgs, true, /*retrieval=*/true);
  predict->add_option("--backend", backend, "mlir | reference")->check(backendNames);

  auto* compile = app.add_subcommand("compile", "write a standalone native trainer");
  addModelArgs(*compile, m);
  compile->add_option("-o,--output", output, "the executable to write")->required();
  addBatchFlag(*compile, m, "batch size to compile for");
  addCodegenThreadsFlag(*compile, threads);
  compile->add_option("--ranks", ranks,
                      "ranks of mpirun -np N to train under (its train step runs B/N rows)")
      ->check(rt::intRange(1, 1 << 20));

  auto* exportCmd = app.add_subcommand("export", "write the serving graph of a checkpoint as ONNX");
  addModelArgs(*exportCmd, m);
  addExportFlags(*exportCmd, exportArgs);

  auto* bench = app.add_subcommand("bench", "training throughput, memory and GFLOP/s per backend");
  addModelArgs(*bench, m);
  addBenchFlags(*bench, benchArgs);
  addBatchFlag(*bench, m, "batch size (default: the model's)");

  auto* benchRetrieval = app.add_subcommand(
      "bench-retrieval", "exact top-K over a random corpus: time, GFLOP/s, the same run's SGEMM");
  addBenchRetrievalFlags(*benchRetrieval, benchRetrievalArgs);

  auto* plot = app.add_subcommand("plot", "draw the training curves of a --log file (gnuplot)");
  plot->add_option("log_file", plotArgs.log, "the JSON lines of `recc train --log`")->required();
  plot->add_option("-o,--output", plotArgs.output, "the picture to write: .png or .svg")->required();

  CLI11_PARSE(app, argc, argv);

  try {
    if (*check) return cmdCheck(m, ast);
    if (*graph) return cmdGraph(m, dot, eval, forwardOnly, locations, picture);
    if (*plot) return runPlot(plotArgs);
    if (*emit) return cmdEmitMlir(m, stage, eval, threads <= 0 ? 1 : threads, lanes);
    // Output paths are checked before any compiling or training.
    if (*benchRetrieval) {
      rt::checkCanWrite("--json", benchRetrievalArgs.json);
      return runBenchRetrieval(benchRetrievalArgs);
    }
    if (*compile) rt::checkCanWrite("-o", output);
    if (*exportCmd) rt::checkCanWrite("-o", exportArgs.output);
    if (*bench) rt::checkCanWrite("--json", benchArgs.json);
    BackendKind kind = parseBackend(backend);
    if (*train || *evalCmd || *predict) {
      CompiledModel model = compileOrExit(m);
      int t = *train ? trainArgs.threads : evalArgs.threads;
      auto steps = makeStepFactory(model, kind, t);
      // A step that goes bad is replayed on the reference executor to name the op.
      auto replay = [&model](const rt::ModelPlan&) -> std::unique_ptr<rt::StepInspector> {
        return std::make_unique<StepReplay>(model.trainGraph);
      };
      if (*train) return rt::runTrain(model.plan, steps, trainArgs, replay);
      std::optional<Towers> towers;
      std::optional<rt::RetrievalSteps> retrieval;
      if (!evalArgs.retrieval.corpus.empty()) {
        towers = towersOrExit(model, m.file);
        retrieval = rt::RetrievalSteps{towers->spec,
                                       makeTowerFactory(*towers, kind, t, model.plan.batchSize)};
      }
      const rt::RetrievalSteps* r = retrieval ? &*retrieval : nullptr;
      if (*evalCmd) return rt::runEval(model.plan, steps, evalArgs, r);
      return rt::runPredict(model.plan, steps, evalArgs, r);
    }
    if (*compile)
      return compileTrainer(compileOrExit(m), output, threads <= 0 ? 2 : threads, ranks);
    if (*bench) return runBench(compileOrExit(m), benchArgs);
    if (*exportCmd) {
      CompiledModel model = compileOrExit(m);
      if (exportArgs.tower.empty())
        return runExport(model, model.evalGraph, model.plan.model, exportArgs);
      Towers towers = towersOrExit(model, m.file);
      return runExport(model, exportArgs.tower == "user" ? towers.user : towers.item,
                       model.plan.model + "." + exportArgs.tower, exportArgs);
    }
  } catch (const std::exception& e) {
    if (rt::Cluster::distributed())
      rt::Cluster::abortAll(e.what());
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
