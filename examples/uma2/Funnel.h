// examples/uma2/Funnel.h: one request through the recommender funnel of the paper's
// Figure 1: entire space ⊃ recall set ⊃ exposure set ⊃ clicks.
//
// The recall policy draws World::policy().recall items from the whole corpus and the
// exposure policy draws .expose of them, each without replacement (Plackett-Luce) with
// logits that depend on the items' popularity and logged CTR far more than on the user;
// clicks happen only on exposed items, by the user's interest and the item's quality.
// So the logged spaces A (exposed, unclicked) and B (recalled, unexposed) hold popular,
// high-CTR items far more often than the corpus does (README.md).
#pragma once

#include "examples/uma2/Uma2World.h"

#include <vector>

namespace recc::uma2 {

enum class Space : int { Pos = 0, A = 1, B = 2, C = 3 };

struct Request {
  int user = 0;
  std::vector<int> recalled;               // the recall set
  std::vector<int> exposed, clicked, a;    // exposed = clicked ∪ a
  std::vector<int> b;                      // recalled, not exposed
  std::vector<char> inRecall;              // per corpus item: 1 if recalled (for C draws)
  /// Which space item i falls in for this request.
  Space spaceOf(int i) const;
};

class Funnel {
public:
  explicit Funnel(const World &w) : w_(w) {}
  /// Runs one request of user u; `out` is reused across calls.
  void run(int u, Rng &rng, Request &out) const;
  /// The recall and exposure logits (for the summary's propensity checks).
  double recallLogit(int u, int i) const;
  double exposeLogit(int u, int i) const;
  double clickProb(int u, int i) const;

private:
  const World &w_;
};

} // namespace recc::uma2
