// examples/common/Auc.h: the ROC AUC the generators' summaries report for their oracle
// click models (how well a model could do at best on the planted data).
#pragma once

#include <cstdint>
#include <vector>

namespace recc::gen {

/// Area under the ROC curve of `score` against 0/1 `label` (ties count half); 0.5 when
/// one class is missing.
double rocAuc(const std::vector<float> &score, const std::vector<uint8_t> &label);

} // namespace recc::gen
