// Suggest: "did you mean" hints. Picks the candidate closest to a misspelled
// name by edit distance, if one is close enough to be a plausible typo.
#pragma once

#include <string>
#include <vector>

namespace recc {

/// Edit distance between `a` and `b`, counting a swap of neighbours as one
/// edit; returns limit + 1 early when the lengths alone exceed `limit`.
int editDistance(const std::string& a, const std::string& b, int limit = 1 << 20);

/// The candidate nearest to `word`, or "" when none is within a third of the
/// word's length (at least one edit).
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

/// "; did you mean 'x'?" for the closest candidate, or "".
std::string didYouMean(const std::string& word, const std::vector<std::string>& candidates);

} // namespace recc
