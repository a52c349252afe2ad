// Summary: the human-readable overview `recc check` prints for a model.
#pragma once

#include "compiler/passes/CompileModel.h"

#include <iosfwd>

namespace recc {

void printSummary(const CompiledModel& model, std::ostream& os);

} // namespace recc
