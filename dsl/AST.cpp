// AST: the few out-of-line helpers of the syntax tree.
#include "dsl/AST.h"

namespace recc::ast {

const ModelDecl* Program::findModel(const std::string& name) const {
  for (const auto& d : decls)
    if (auto* m = dynCast<ModelDecl>(d.get()))
      if (name.empty() || m->name.name == name) return m;
  return nullptr;
}

} // namespace recc::ast
