// libFuzzer target for the front end: any bytes go through the lexer, parser
// and checker once, then every model of the program is compiled as a driver
// would (both graphs, shape inference, autodiff, the step buffer lists) and
// put through the executability check and the memory estimate that `recc
// check` prints. Bad input must only ever produce diagnostics: a crash, a
// sanitizer report (ASan, UBSan), a leak or an uncaught exception is a bug.
// Built and run by run_fuzz.sh, seeded with tests/fuzz/corpus/frontend and
// the repository's .rec files.
//
// Speed (exec/s decides how far a long run gets): the program is parsed and
// checked once per input, and each model built once per mode — the first
// version parsed and checked twice and built the first model's graphs twice.
#include "compiler/ir/GraphStats.h"
#include "compiler/passes/CompileModel.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

using namespace recc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  DiagnosticEngine diag;
  diag.addSource("fuzz.rec", text);
  auto prog = parseProgram("fuzz.rec", text, diag);
  if (!prog || diag.hasErrors() || !checkProgram(*prog, diag)) {
    (void)diag.render();
    return 0;
  }
  for (const auto& d : prog->decls) {
    auto* m = ast::dynCast<ast::ModelDecl>(d.get());
    if (!m) continue;
    DiagnosticEngine md;
    md.addSource("fuzz.rec", text);
    auto compiled = compileCheckedProgram(*prog, m->name.name, md);
    if (compiled) {
      try {  // overflow is refused by name, never wrapped
        (void)peakLiveBytes(compiled->trainGraph, compiled->plan.batchSize, sizeof(float));
      } catch (const std::overflow_error&) {
      }
    }
    (void)md.render();
  }
  return 0;
}
