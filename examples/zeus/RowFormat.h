// examples/zeus/RowFormat.h: the CSV columns of gen_zeus's files (README.md lists them).
//
// Id lists are '|'-separated, most recent first; a bag of word segments per element
// (sq_ws, sc_ws, and the grouped file's tq_ws) separates its words with ';' inside the
// element, as recc reads ids(V, len = L, words = W).
#pragma once

#include "examples/common/CsvOutput.h"
#include "examples/zeus/Simulator.h"

#include <string>

namespace recc::zeus {

std::string clickHeader();      // fine-tuning, DMT, DNN, FINN: label `click`
std::string pretrainHeader();   // NQP, pointwise and grouped: label `searched`

/// One impression of a click scenario.
void formatClick(gen::CsvBuffer &csv, const World &w, const Impression &m);
/// The 10 pointwise rows of a search group (searched = 1 for the first).
void formatSearchRows(gen::CsvBuffer &csv, const World &w, const SearchGroup &g);
/// The group as one row: tq_id, tq_ws and tq_cat hold the 10 candidates, the searched one
/// first; the candidate-side dense features are the group's means (one value per row, so
/// it must not be the positive's).
void formatSearchGroup(gen::CsvBuffer &csv, const World &w, const SearchGroup &g);

} // namespace recc::zeus
