// Metrics: the binary-label metrics of Metrics.h. AUC walks the rows in score
// order and, for each run of tied scores, adds (negatives ranked below) *
// (positives in the run) plus half of (positives x negatives) inside the run:
// the Mann-Whitney U with the usual tie correction, in exact 64-bit counts.
// Sums are taken in double, so a million float rows lose nothing that shows.
#include "runtime/Metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>
#include <vector>

namespace recc::rt {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kClamp = 1e-7;

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

/// Row indices sorted by group id (stably: rows keep their order in a group).
std::vector<int64_t> rowsByGroup(std::span<const int64_t> groups) {
  std::vector<int64_t> idx = allRows(groups.size());
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int64_t a, int64_t b) { return groups[a] < groups[b]; });
  return idx;
}

/// Entropy (nats) of a Bernoulli variable with mean `p`; 0 at p = 0 or 1.
double bernoulliEntropy(double p) {
  if (p <= 0 || p >= 1)
    return 0;
  return -(p * std::log(p) + (1 - p) * std::log(1 - p));
}

double weightOf(const GroupValue& g, GaucReduce reduce) {
  switch (reduce) {
  case GaucReduce::BySampleNum: return double(g.rows);
  case GaucReduce::ByPositiveNum: return double(g.positives);
  case GaucReduce::Mean: break;
  }
  return 1;
}

/// The weighted mean AUC of the groups that have both classes; NaN if none has.
double reduceGroups(const std::vector<GroupValue>& byGroup, GaucReduce reduce,
                    int64_t& skipped) {
  double sum = 0, weights = 0;
  skipped = 0;
  for (const GroupValue& g : byGroup) {
    if (std::isnan(g.value)) {
      ++skipped;
      continue;
    }
    sum += weightOf(g, reduce) * g.value;
    weights += weightOf(g, reduce);
  }
  return weights > 0 ? sum / weights : kNaN;
}

} // namespace

double auc(std::span<const float> scores, std::span<const float> labels) {
  std::vector<int64_t> idx = allRows(scores.size());
  return aucOfRange(idx, 0, idx.size(), scores, labels);
}

std::vector<GroupValue> aucByGroup(std::span<const float> scores, std::span<const float> labels,
                                   std::span<const int64_t> groups) {
  std::vector<int64_t> idx = rowsByGroup(groups);
  std::vector<GroupValue> out;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    GroupValue g{.group = groups[idx[i]]};
    for (; j < idx.size() && groups[idx[j]] == g.group; ++j)
      g.positives += positive(labels[idx[j]]) ? 1 : 0;
    g.rows = int64_t(j - i);
    g.value = aucOfRange(idx, i, j, scores, labels);
    if (std::isnan(g.value))
      g.note = fmt::format("undefined: one class ({} positives in {} rows)", g.positives, g.rows);
    out.push_back(std::move(g));
    i = j;
  }
  return out;
}

bool parseGaucReduce(const std::string& text, GaucReduce& out) {
  if (text.empty() || text == "mean")
    out = GaucReduce::Mean;
  else if (text == "mean_by_sample_num")
    out = GaucReduce::BySampleNum;
  else if (text == "mean_by_positive_num")
    out = GaucReduce::ByPositiveNum;
  else
    return false;
  return true;
}

double gauc(std::span<const float> scores, std::span<const float> labels,
            std::span<const int64_t> groups, int64_t* skippedGroups, GaucReduce reduce) {
  int64_t skipped = 0;
  double value = reduceGroups(aucByGroup(scores, labels, groups), reduce, skipped);
  if (skippedGroups)
    *skippedGroups = skipped;
  return value;
}

double logloss(std::span<const float> scores, std::span<const float> labels) {
  if (scores.empty())
    return kNaN;
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    double p = std::clamp<double>(scores[i], kClamp, 1 - kClamp);
    sum -= labels[i] * std::log(p) + (1 - labels[i]) * std::log(1 - p);
  }
  return sum / double(scores.size());
}

double mean(std::span<const float> values) {
  if (values.empty())
    return kNaN;
  double sum = 0;
  for (float v : values)
    sum += v;
  return sum / double(values.size());
}

double normalizedEntropy(std::span<const float> scores, std::span<const float> labels) {
  const double entropy = bernoulliEntropy(mean(labels));
  if (scores.empty() || !(entropy > 0))
    return kNaN;
  return logloss(scores, labels) / entropy;
}

double calibration(std::span<const float> scores, std::span<const float> labels) {
  double predicted = 0, observed = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    predicted += scores[i];
    observed += labels[i];
  }
  return observed != 0 ? predicted / observed : kNaN;
}

bool isBinaryMetric(const std::string& kind) {
  return kind == "auc" || kind == "gauc" || kind == "logloss" || kind == "ne" ||
         kind == "calibration" || kind == "ctr" || kind == "pctr";
}

namespace {

/// The rows a metric keeps: those whose filter label is 1.
struct Kept {
  std::vector<float> scores, labels;
  std::vector<int64_t> groups;
};

Kept keepRows(std::span<const float> scores, std::span<const float> labels,
              std::span<const float> filter, std::span<const int64_t> groups) {
  Kept k;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!filter.empty() && !positive(filter[i]))
      continue;
    k.scores.push_back(scores[i]);
    k.labels.push_back(labels[i]);
    if (!groups.empty())
      k.groups.push_back(groups[i]);
  }
  return k;
}

/// Metric `kind` (not gauc) over rows (s, y), with a note when it is NaN.
std::pair<double, std::string> valueOf(const std::string& kind, std::span<const float> s,
                                       std::span<const float> y, int64_t pos) {
  const int64_t rows = int64_t(s.size());
  if (rows == 0)
    return {kNaN, "undefined: no rows"};
  double v = kNaN;
  if (kind == "auc")
    v = auc(s, y);
  else if (kind == "logloss")
    v = logloss(s, y);
  else if (kind == "ne")
    v = normalizedEntropy(s, y);
  else if (kind == "calibration")
    v = calibration(s, y);
  else if (kind == "ctr")
    v = mean(y);
  else if (kind == "pctr")
    v = mean(s);
  if (!std::isnan(v))
    return {v, ""};
  if (kind == "ne")
    return {v, fmt::format("undefined: the base rate is {} ({} positives among {} rows), whose "
                           "entropy is 0", mean(y), pos, rows)};
  if (kind == "calibration")
    return {v, fmt::format("undefined: the labels of the {} rows sum to 0", rows)};
  return {v, fmt::format("undefined: {} positives and {} negatives among {} rows", pos,
                         rows - pos, rows)};
}

int64_t countPositives(std::span<const float> labels) {
  return std::count_if(labels.begin(), labels.end(), positive);
}

/// Metric `kind` over each group's rows; empty (with `note` set) past
/// kMaxBreakdownGroups groups.
std::vector<GroupValue> breakdown(const std::string& kind, const Kept& k, std::string& note) {
  std::vector<int64_t> idx = rowsByGroup(k.groups);
  std::vector<GroupValue> out;
  std::vector<float> s, y;
  for (size_t i = 0; i < idx.size();) {
    if (int64_t(out.size()) == kMaxBreakdownGroups) {
      note = fmt::format("no breakdown: more than {} groups", kMaxBreakdownGroups);
      return {};
    }
    s.clear(), y.clear();
    size_t j = i;
    for (; j < idx.size() && k.groups[idx[j]] == k.groups[idx[i]]; ++j) {
      s.push_back(k.scores[idx[j]]);
      y.push_back(k.labels[idx[j]]);
    }
    GroupValue g{.group = k.groups[idx[i]], .rows = int64_t(j - i), .positives = countPositives(y)};
    std::tie(g.value, g.note) = valueOf(kind, s, y, g.positives);
    out.push_back(std::move(g));
    i = j;
  }
  return out;
}

/// gauc over the kept rows, with its per-group AUCs.
void gaucResult(const MetricSpec& spec, const Kept& k, MetricResult& r) {
  GaucReduce reduce = GaucReduce::Mean;
  parseGaucReduce(spec.reduce, reduce);  // validated with the plan (ModelState.cpp)
  int64_t skipped = 0;
  r.byGroup = aucByGroup(k.scores, k.labels, k.groups);
  r.value = reduceGroups(r.byGroup, reduce, skipped);
  if (std::isnan(r.value))
    r.note = fmt::format("undefined: none of the {} groups has both classes", skipped);
  else if (skipped > 0)
    r.note = fmt::format("{} one-class groups skipped", skipped);
}

} // namespace

MetricResult computeMetric(const MetricSpec& spec, std::span<const float> scores,
                           std::span<const float> labels, std::span<const float> filter,
                           std::span<const int64_t> groups) {
  const Kept k = keepRows(scores, labels, filter, groups);
  MetricResult r{kNaN, int64_t(k.scores.size()), "", {}, countPositives(k.labels)};
  const int64_t nans =
      std::count_if(k.scores.begin(), k.scores.end(), [](float v) { return std::isnan(v); });
  if (nans > 0) {
    r.note = fmt::format("undefined: output '{}' has {} NaN scores", spec.output, nans);
    return r;
  }
  if (spec.kind == "gauc") {
    gaucResult(spec, k, r);
    return r;
  }
  std::tie(r.value, r.note) = valueOf(spec.kind, k.scores, k.labels, r.positives);
  if (!groups.empty()) {
    std::string note;
    r.byGroup = breakdown(spec.kind, k, note);
    if (!note.empty())
      r.note += (r.note.empty() ? "" : "; ") + note;
  }
  return r;
}

} // namespace recc::rt
