// Columns: the column list of a headerless data layout
// (`columns [label, I1..I13, C1..C26] delimiter = tab`, Criteo's), with its
// ranges expanded. Sema reports what is malformed in it; the graph builder
// copies the expanded names into the model plan, and the data reader then
// maps each field of a row to a column by position (docs/data.md).
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <string>
#include <vector>

namespace recc {

/// Largest number of columns a list may expand to.
inline constexpr size_t kMaxColumns = 65536;

struct ColumnList {
  std::vector<std::string> names;  ///< in file order, ranges expanded
  std::vector<SourceLoc> locs;     ///< where each name comes from (its range)
  std::string delimiter;           ///< "tab", "comma", or "" (by extension, else sniffed)
};

/// Expands `stmt`'s ranges. With `diag`, reports a malformed range, a name
/// listed twice, too many columns and an unknown delimiter; the list holds
/// what could be expanded either way.
ColumnList expandColumns(const ast::ColumnsStmt& stmt, DiagnosticEngine* diag);

} // namespace recc
