// examples/sarnet/RowFormat.h: the CSV columns of the train and test files (README.md
// describes each). Lists are '|'-separated, most recent behaviour first, and empty for a
// user without behaviours; the test file has every column but `fc`.
#pragma once

#include "examples/common/CsvOutput.h"
#include "examples/sarnet/Simulator.h"

#include <optional>
#include <string_view>

namespace recc::sarnet {

std::string_view csvHeader(bool withFc);

/// user_x_cat: the user x category cross hashed into kCrossVocab buckets (Wide&Deep).
int userCrossCategory(int user, int category);

/// Appends one row; `fc` is given for training rows only.
void formatRow(gen::CsvBuffer &csv, const World &w, const Impression &m, std::optional<double> fc);

} // namespace recc::sarnet
