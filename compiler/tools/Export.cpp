// Export: see Export.h.
#include "compiler/tools/Export.h"

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/ModelState.h"
#ifdef RECC_HAVE_ONNX
#include "compiler/export/OnnxExport.h"
#endif

#include <iostream>

namespace recc {

void addExportFlags(CLI::App& cmd, ExportArgs& a) {
  cmd.add_option("--ckpt", a.checkpoint, "the trained checkpoint (.safetensors)")->required();
  cmd.add_option("-o,--output", a.output, "the ONNX file to write")->required();
  cmd.add_flag("--external-data", a.external,
               "weights in OUTPUT.data (ONNX external data) even below the 2 GB limit");
  cmd.add_flag("--allow-non-finite", a.allowNonFinite, "export a checkpoint holding NaN/Inf");
  cmd.add_option("--tower", a.tower,
                 "a two-tower model's user or item tower (its query or item vectors)")
      ->check(CLI::IsMember({"user", "item"}));
}

int runExport(const CompiledModel& model, const Graph& graph, const std::string& name,
              const ExportArgs& a) {
#ifdef RECC_HAVE_ONNX
  rt::checkCanWrite("-o", a.output);
  onnxexp::checkExportable(model, graph);  // before a checkpoint of many GB is read
  rt::ModelState state(model.plan);
  rt::loadCheckpoint(a.checkpoint, state, {.allowNonFinite = a.allowNonFinite});
  onnxexp::ExportSummary s =
      onnxexp::exportOnnx(model, graph, state, a.output, {.external = a.external, .name = name});
  std::cerr << "wrote " << a.output << " ('" << name << "', step " << state.step
            << ": " << s.nodes << " ONNX nodes, " << s.inputs << " inputs, " << s.outputs
            << " outputs, " << s.weightBytes << " bytes of weights"
            << (s.sideFile.empty() ? "" : " in " + s.sideFile) << ")\n";
  return 0;
#else
  (void)model, (void)graph, (void)name, (void)a;
  std::cerr << "error: this recc was built without ONNX (install libonnx-dev libprotobuf-dev)\n";
  return 1;
#endif
}

} // namespace recc
