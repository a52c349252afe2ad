// RankingMetrics: the retrieval metrics of Metrics.h (recall, precision,
// hitrate, ndcg, mrr, map @k) and the mapping of top_k positions to item ids.
// Requests are kept in an ordered map, so the result does not depend on
// hashing.
#include "runtime/Metrics.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <vector>

namespace recc::rt {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
bool positive(float y) { return y > 0.5f; }
} // namespace

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
