// Towers: the two forward-only sub-graphs that serve a two-tower model's
// top_k outputs over a whole item corpus (runtime/Retrieval.h). From the eval
// graph, for the top_k(query, items, k) outputs:
//   user tower  everything the queries depend on; one output per top_k, in the
//               order of the eval graph's outputs (MIND has four: one per interest)
//   item tower  everything `items` depends on; one output
// each bound to only the inputs and parameters it reads. Both compile through
// the eval step's backend. A model without top_k, top_k outputs over different
// item towers, and an item tower that reads a label or an input the user
// tower reads (its items would depend on the user) are errors at the op.
#pragma once

#include "compiler/passes/CompileModel.h"
#include "runtime/Retrieval.h"

#include <optional>
#include <string>

namespace recc {

struct Towers {
  Graph user;  ///< outputs: "<top_k output>.query" for each top_k output
  Graph item;  ///< output: "items"
  rt::TowerSpec spec;
};

inline constexpr const char* kUserTowerSymbol = "recc_user_tower";
inline constexpr const char* kItemTowerSymbol = "recc_item_tower";

/// Derives the towers of `model` (read from `file`, for messages); nullopt
/// after reporting to `diag`.
std::optional<Towers> deriveTowers(const CompiledModel& model, const std::string& file,
                                   DiagnosticEngine& diag);

} // namespace recc
