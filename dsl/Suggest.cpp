// Suggest: edit-distance "did you mean" hints for misspelled names.
#include "dsl/Suggest.h"

#include <algorithm>

namespace recc {

int editDistance(const std::string& a, const std::string& b, int limit) {
  if ((int)std::max(a.size(), b.size()) - (int)std::min(a.size(), b.size()) > limit)
    return limit + 1;
  // Optimal string alignment: insertions, deletions, substitutions and
  // transpositions of neighbours ("inptu" -> "input") each cost one.
  std::vector<int> prev2(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = (int)j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = (int)i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], prev2[j - 2] + 1);
    }
    prev2.swap(prev);
    prev.swap(row);
  }
  return prev[b.size()];
}

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return "";
  int limit = std::max<int>(1, (int)word.size() / 3);
  std::string best;
  int bestDist = limit + 1;
  for (const auto& c : candidates) {
    if (c == word || c.size() > 64) continue;
    int d = editDistance(word, c, limit);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best;
}

std::string didYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best = closestMatch(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

} // namespace recc
