// examples/common/Auc.cpp: rank-sum AUC with averaged ranks over ties.
#include "examples/common/Auc.h"

#include <algorithm>
#include <numeric>

namespace recc::gen {

double rocAuc(const std::vector<float> &score, const std::vector<uint8_t> &label) {
  std::vector<int> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return score[a] < score[b]; });
  double rankSum = 0, pos = 0;
  for (size_t i = 0; i < order.size();) {  // average ranks over ties
    size_t j = i;
    while (j < order.size() && score[order[j]] == score[order[i]]) ++j;
    double rank = 0.5 * double(i + 1 + j);
    for (size_t k = i; k < j; ++k)
      if (label[order[k]]) rankSum += rank, pos++;
    i = j;
  }
  double neg = double(score.size()) - pos;
  return pos && neg ? (rankSum - pos * (pos + 1) / 2) / (pos * neg) : 0.5;
}

} // namespace recc::gen
