// RetrievalData: see the header.
#include "runtime/RetrievalData.h"

#include "runtime/CsvReader.h"
#include "runtime/Error.h"

#include <algorithm>
#include <limits>

namespace recc::rt {
namespace {

bool isId(const FeatureSpec& f) { return f.kind == FeatureSpec::Kind::Categorical; }

int featureNamed(const ModelPlan& plan, const std::string& name) {
  for (size_t f = 0; f < plan.features.size(); ++f)
    if (plan.features[f].name == name) return int(f);
  return -1;
}

/// `tower` plus the given features: what a file read for it must have.
StepSpec withKeys(const StepSpec& tower, const ModelPlan& plan, std::initializer_list<int> keys) {
  StepSpec spec = tower;
  for (int f : keys)
    spec.buffers.push_back({BufferSpec::Role::Feature, plan.features[size_t(f)].name, {-1, 1}});
  return spec;
}

/// Reads only the columns `spec` needs (and the labels, when present).
DataSet readFor(const std::string& path, const ModelPlan& plan, const StepSpec& spec) {
  ReadOptions o;
  o.requireLabels = false;
  o.requireGroups = false;
  o.requiredBy = &spec;
  o.onlyRequired = true;
  return readDataFile(path, plan, o);
}

} // namespace

int keyFeature(const ModelPlan& plan, const StepSpec& tower, const std::string& name,
               const std::string& flag, const std::string& side) {
  if (name.empty()) {
    for (const BufferSpec& b : tower.buffers)
      if (b.role == BufferSpec::Role::Feature || b.role == BufferSpec::Role::EmbeddingRows)
        if (int f = featureNamed(plan, b.name); f >= 0 && isId(plan.features[size_t(f)]))
          return f;
    fail("model '{}': the {} tower reads no id input to key the {} by; name one with {}",
         plan.model, side, side == "user" ? "requests" : "items", flag);
  }
  for (const bool byColumn : {false, true})
    for (size_t f = 0; f < plan.features.size(); ++f) {
      const FeatureSpec& s = plan.features[f];
      if (isId(s) && (byColumn ? s.column : s.name) == name) return int(f);
    }
  std::vector<std::string> ids;
  for (const FeatureSpec& s : plan.features)
    if (isId(s)) ids.push_back(s.name);
  fail("{} '{}' is not an id input of model '{}' (its id inputs: {})", flag, name, plan.model,
       fmt::join(ids, ", "));
}

Corpus readCorpus(const std::string& path, const ModelPlan& plan, const StepSpec& itemTower,
                  int itemKey) {
  Corpus c;
  c.data = readFor(path, plan, withKeys(itemTower, plan, {itemKey}));
  if (c.data.rows() >= std::numeric_limits<int32_t>::max())
    fail("{}: {} items is more than a corpus may hold ({})", path, c.data.rows(),
         std::numeric_limits<int32_t>::max() - 1);
  std::span<const int64_t> ids = c.data.ids(itemKey);
  c.keys.assign(ids.begin(), ids.end());
  c.row.reserve(c.keys.size());
  for (size_t r = 0; r < c.keys.size(); ++r) {
    auto [it, added] = c.row.try_emplace(c.keys[r], int32_t(r));
    if (!added)
      fail("{}: item key '{}' = {} appears twice in the corpus (data rows {} and {}); each item "
           "must have one row", path, plan.features[size_t(itemKey)].column, c.keys[r],
           it->second + 1, r + 1);
  }
  return c;
}

Requests readRequests(const std::string& path, const ModelPlan& plan, const StepSpec& userTower,
                      int userKey, int itemKey, const Corpus& corpus) {
  Requests q;
  q.data = readFor(path, plan, withKeys(userTower, plan, {userKey, itemKey}));
  const DataSet& d = q.data;
  const bool labelled = !plan.labels.empty() && d.hasLabel(0);
  std::span<const int64_t> users = d.ids(userKey), items = d.ids(itemKey);
  std::unordered_map<int64_t, int64_t> request;
  std::vector<std::vector<int64_t>> outside;
  for (int64_t r = 0; r < d.rows(); ++r) {
    auto [it, added] = request.try_emplace(users[size_t(r)], q.size());
    if (added) {
      q.first.push_back(r);
      q.userKey.push_back(users[size_t(r)]);
      q.positives.emplace_back();
      outside.emplace_back();
    }
    if (labelled && d.label(0)[size_t(r)] <= 0.5f) continue;
    auto item = corpus.row.find(items[size_t(r)]);
    if (item != corpus.row.end()) q.positives[size_t(it->second)].push_back(item->second);
    else outside[size_t(it->second)].push_back(items[size_t(r)]);
  }
  for (auto& p : q.positives) {
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  }
  for (auto& o : outside) {
    std::sort(o.begin(), o.end());
    q.outside.push_back(int32_t(std::unique(o.begin(), o.end()) - o.begin()));
  }
  return q;
}

std::vector<std::vector<int32_t>> readSeen(const std::string& path, const ModelPlan& plan,
                                           int userKey, int itemKey, const Requests& requests,
                                           const Corpus& corpus) {
  // A plan of the two keys and the first label only: a training file is
  // large, and its other columns are not needed.
  ModelPlan keys;
  keys.model = plan.model;
  keys.features = {plan.features[size_t(userKey)], plan.features[size_t(itemKey)]};
  if (!plan.labels.empty()) keys.labels = {plan.labels[0]};
  ReadOptions o;
  o.requireLabels = false;
  DataSet d = readDataFile(path, keys, o);
  const bool labelled = !keys.labels.empty() && d.hasLabel(0);
  std::unordered_map<int64_t, int64_t> request;
  for (int64_t i = 0; i < requests.size(); ++i) request.emplace(requests.userKey[size_t(i)], i);
  std::vector<std::vector<int32_t>> seen(size_t(requests.size()));
  for (int64_t r = 0; r < d.rows(); ++r) {
    if (labelled && d.label(0)[size_t(r)] <= 0.5f) continue;
    auto u = request.find(d.ids(0)[size_t(r)]);
    auto item = corpus.row.find(d.ids(1)[size_t(r)]);
    if (u != request.end() && item != corpus.row.end())
      seen[size_t(u->second)].push_back(item->second);
  }
  for (auto& s : seen) {
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
  }
  return seen;
}

} // namespace recc::rt
