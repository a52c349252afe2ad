// libFuzzer target for the front end: any bytes go through the lexer, parser,
// checker, BuildGraph (every model, both modes) and CompileModel (shape
// inference and autodiff of the first model) and the executability check.
// Bad input must only ever produce diagnostics: a crash, a sanitizer report
// (ASan, UBSan), a leak or an uncaught exception is a bug. Built and run by
// run_fuzz.sh, seeded with models/*.rec and the tests' .rec files.
#include "compiler/passes/BuildGraph.h"
#include "compiler/passes/CompileModel.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace recc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  DiagnosticEngine diag;
  auto prog = parseProgram("fuzz.rec", text, diag);
  if (diag.hasErrors() || !checkProgram(*prog, diag)) return 0;
  for (const auto& d : prog->decls) {
    auto* m = ast::dynCast<ast::ModelDecl>(d.get());
    if (!m) continue;
    for (GraphMode mode : {GraphMode::Train, GraphMode::Eval}) {
      DiagnosticEngine bd;
      buildGraph(*prog, m->name.name, mode, bd);
    }
  }
  DiagnosticEngine cd;
  if (auto compiled = compileModelSource("fuzz.rec", text, "", cd)) checkExecutable(*compiled, cd);
  (void)cd.render();
  return 0;
}
