// examples/uma2/Funnel.cpp: recall, exposure and clicks of one request.
#include "examples/uma2/Funnel.h"

#include <algorithm>

namespace recc::uma2 {

Space Request::spaceOf(int i) const {
  if (!inRecall[i]) return Space::C;
  if (std::find(clicked.begin(), clicked.end(), i) != clicked.end()) return Space::Pos;
  if (std::find(a.begin(), a.end(), i) != a.end()) return Space::A;
  return Space::B;
}

double Funnel::recallLogit(int u, int i) const {
  const Policy &p = w_.policy();
  const Item &it = w_.item(i);
  return p.recallPop * it.logPop + p.recallCtr * w_.ctrScore(i) +
         p.recallInterest * w_.interest(u, it.cate);
}

double Funnel::exposeLogit(int u, int i) const {
  const Policy &p = w_.policy();
  const Item &it = w_.item(i);
  return p.exposeCtr * w_.ctrScore(i) + p.exposePop * it.logPop +
         p.exposeInterest * w_.interest(u, it.cate);
}

double Funnel::clickProb(int u, int i) const {
  const Policy &p = w_.policy();
  const Item &it = w_.item(i);
  return gen::sigmoid(p.clickBias + p.clickInterest * w_.interest(u, it.cate) +
                      p.clickQuality * it.quality);
}

void Funnel::run(int u, Rng &rng, Request &out) const {
  const int n = w_.sizes().items;
  out.user = u;
  std::vector<double> logits(n);
  for (int i = 0; i < n; ++i) logits[i] = recallLogit(u, i);
  out.recalled = gen::gumbelTopK(logits, w_.policy().recall, rng);
  out.inRecall.assign(n, 0);
  for (int i : out.recalled) out.inRecall[i] = 1;
  logits.resize(out.recalled.size());
  for (size_t k = 0; k < out.recalled.size(); ++k) logits[k] = exposeLogit(u, out.recalled[k]);
  std::vector<int> shown = gen::gumbelTopK(logits, w_.policy().expose, rng);
  std::vector<char> isShown(out.recalled.size(), 0);
  out.exposed.clear(), out.clicked.clear(), out.a.clear(), out.b.clear();
  for (int k : shown) {
    int i = out.recalled[k];
    isShown[k] = 1;
    out.exposed.push_back(i);
    (rng.chance(clickProb(u, i)) ? out.clicked : out.a).push_back(i);
  }
  for (size_t k = 0; k < out.recalled.size(); ++k)
    if (!isShown[k]) out.b.push_back(out.recalled[k]);
}

} // namespace recc::uma2
