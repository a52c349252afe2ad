// Metrics: see Metrics.h. AUC walks the rows in score order and, for each run
// of tied scores, adds (negatives ranked below) * (positives in the run) plus
// half of (positives x negatives) inside the run: the Mann-Whitney U with the
// usual tie correction, in exact 64-bit counts.
#include "runtime/Metrics.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <vector>

namespace recc::rt {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool positive(float y) { return y > 0.5f; }

/// AUC of the rows in idx[begin, end); sorts that range by score.
double aucOfRange(std::vector<int64_t>& idx, size_t begin, size_t end,
                  std::span<const float> scores, std::span<const float> labels) {
  std::sort(idx.begin() + begin, idx.begin() + end,
            [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
  double pairs = 0;
  int64_t negBelow = 0, pos = 0;
  for (size_t i = begin; i < end;) {
    size_t j = i;
    int64_t runPos = 0, runNeg = 0;
    for (; j < end && scores[idx[j]] == scores[idx[i]]; ++j)
      positive(labels[idx[j]]) ? ++runPos : ++runNeg;
    pairs += double(runPos) * double(negBelow) + 0.5 * double(runPos) * double(runNeg);
    negBelow += runNeg;
    pos += runPos;
    i = j;
  }
  if (pos == 0 || negBelow == 0)
    return kNaN;
  return pairs / (double(pos) * double(negBelow));
}

std::vector<int64_t> allRows(size_t n) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), int64_t{0});
  return idx;
}

} // namespace

double auc(std::span<const float> scores, std::span<const float> labels) {
  std::vector<int64_t> idx = allRows(scores.size());
  return aucOfRange(idx, 0, idx.size(), scores, labels);
}

std::vector<GroupAuc> aucByGroup(std::span<const float> scores, std::span<const float> labels,
                                 std::span<const int64_t> groups) {
  std::vector<int64_t> idx = allRows(scores.size());
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return groups[a] < groups[b]; });
  std::vector<GroupAuc> out;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    GroupAuc g{.group = groups[idx[i]]};
    for (; j < idx.size() && groups[idx[j]] == g.group; ++j)
      g.positives += positive(labels[idx[j]]) ? 1 : 0;
    g.rows = int64_t(j - i);
    g.auc = aucOfRange(idx, i, j, scores, labels);
    out.push_back(g);
    i = j;
  }
  return out;
}

namespace {
/// The mean AUC of the groups that have both classes; NaN if none has.
double meanOfDefined(const std::vector<GroupAuc>& byGroup, int64_t& skipped) {
  double sum = 0;
  int64_t used = 0;
  skipped = 0;
  for (const GroupAuc& g : byGroup)
    std::isnan(g.auc) ? ++skipped : (sum += g.auc, ++used);
  return used ? sum / double(used) : kNaN;
}
} // namespace

double gauc(std::span<const float> scores, std::span<const float> labels,
            std::span<const int64_t> groups, int64_t* skippedGroups) {
  int64_t skipped = 0;
  double value = meanOfDefined(aucByGroup(scores, labels, groups), skipped);
  if (skippedGroups)
    *skippedGroups = skipped;
  return value;
}

double logloss(std::span<const float> scores, std::span<const float> labels) {
  if (scores.empty())
    return kNaN;
  constexpr double kClamp = 1e-7;
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    double p = std::clamp<double>(scores[i], kClamp, 1 - kClamp);
    sum -= labels[i] * std::log(p) + (1 - labels[i]) * std::log(1 - p);
  }
  return sum / double(scores.size());
}

MetricResult computeMetric(const MetricSpec& spec, std::span<const float> scores,
                           std::span<const float> labels, std::span<const float> filter,
                           std::span<const int64_t> groups) {
  std::vector<float> s, y;
  std::vector<int64_t> g;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!filter.empty() && !positive(filter[i]))
      continue;
    s.push_back(scores[i]);
    y.push_back(labels[i]);
    if (!groups.empty())
      g.push_back(groups[i]);
  }
  MetricResult r{kNaN, static_cast<int64_t>(s.size()), "", {}};
  const int64_t nans = std::count_if(s.begin(), s.end(), [](float v) { return std::isnan(v); });
  if (nans > 0) {
    r.note = fmt::format("undefined: output '{}' has {} NaN scores", spec.output, nans);
    return r;
  }
  const int64_t pos = std::count_if(y.begin(), y.end(), positive);
  if (spec.kind == "logloss") {
    r.value = logloss(s, y);
    if (s.empty())
      r.note = "no rows";
  } else if (spec.kind == "auc") {
    r.value = auc(s, y);
    if (std::isnan(r.value))
      r.note = fmt::format("undefined: {} positives and {} negatives among {} rows",
                           pos, r.rows - pos, r.rows);
  } else {
    int64_t skipped = 0;
    r.byGroup = aucByGroup(s, y, g);
    r.value = meanOfDefined(r.byGroup, skipped);
    if (std::isnan(r.value))
      r.note = fmt::format("undefined: none of the {} groups has both classes", skipped);
    else if (skipped > 0)
      r.note = fmt::format("{} one-class groups skipped", skipped);
  }
  return r;
}

bool isRankingMetric(const std::string& kind) {
  return kind == "recall" || kind == "precision" || kind == "hitrate" || kind == "ndcg" ||
         kind == "mrr" || kind == "map";
}

namespace {

/// The metric of one request: `top` its first k retrieved ids, `relevant` its
/// distinct targets (not empty).
double rankingValue(const std::string& kind, std::span<const int64_t> top, int64_t k,
                    const std::set<int64_t>& relevant) {
  std::set<int64_t> seen;  // an id retrieved twice is one retrieved item
  int64_t hits = 0, firstHit = 0;
  double dcg = 0, precisionSum = 0;
  for (int64_t r = 1; r <= k && r <= (int64_t)top.size(); ++r) {
    int64_t id = top[r - 1];
    if (id < 0 || !seen.insert(id).second || !relevant.count(id))
      continue;
    ++hits;
    if (!firstHit)
      firstHit = r;
    dcg += 1 / std::log2(double(r) + 1);
    precisionSum += double(hits) / double(r);
  }
  const int64_t ideal = std::min<int64_t>(k, (int64_t)relevant.size());
  if (kind == "recall")
    return double(hits) / double(relevant.size());
  if (kind == "precision")
    return double(hits) / double(k);
  if (kind == "hitrate")
    return hits > 0 ? 1 : 0;
  if (kind == "mrr")
    return firstHit ? 1 / double(firstHit) : 0;
  if (kind == "map")
    return precisionSum / double(ideal);
  double idcg = 0;
  for (int64_t r = 1; r <= ideal; ++r)
    idcg += 1 / std::log2(double(r) + 1);
  return dcg / idcg;
}

} // namespace

MetricResult computeRankingMetric(const MetricSpec& spec, std::span<const int64_t> top,
                                  int64_t width, std::span<const int64_t> targets,
                                  std::span<const float> filter, std::span<const int64_t> groups) {
  const int64_t k = spec.k > 0 ? std::min(spec.k, width) : width;
  struct Request {
    int64_t firstRow = -1;
    std::set<int64_t> relevant;
  };
  std::map<int64_t, Request> requests;  // ordered, so the result does not depend on hashing
  int64_t rows = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!filter.empty() && !positive(filter[i]))
      continue;
    ++rows;
    Request& q = requests[groups.empty() ? int64_t(i) : groups[i]];
    if (q.firstRow < 0)
      q.firstRow = int64_t(i);
    if (targets[i] >= 0)
      q.relevant.insert(targets[i]);
  }
  double sum = 0;
  int64_t used = 0;
  for (const auto& [key, q] : requests) {
    if (q.relevant.empty())
      continue;
    sum += rankingValue(spec.kind, top.subspan(size_t(q.firstRow * width), size_t(width)), k,
                        q.relevant);
    ++used;
  }
  MetricResult r{used ? sum / double(used) : kNaN, rows, "", {}};
  if (!used)
    r.note = fmt::format("undefined: none of the {} requests has a relevant item",
                         requests.size());
  return r;
}

std::vector<int64_t> itemIdsAt(std::span<const float> positions, int64_t width,
                               std::span<const int64_t> corpus, const std::string& what) {
  std::vector<int64_t> ids(positions.size());
  for (size_t j = 0; j < positions.size(); ++j) {
    const float v = positions[j];
    const int64_t row = int64_t(j) / std::max<int64_t>(width, 1);
    if (!std::isfinite(v))
      fail("{} holds a non-finite position at row {}", what, row);
    const int64_t p = int64_t(std::llround(v));
    if (p >= int64_t(corpus.size()))
      fail("{} holds position {} at row {}, but the batch it ranked has {} item rows", what, p,
           row, corpus.size());
    ids[j] = p < 0 ? -1 : corpus[size_t(p)];
  }
  return ids;
}

} // namespace recc::rt
