// Retrieval: the towers over the files, the top-K, the metrics; see the header.
#include "runtime/Retrieval.h"

#include "runtime/AtomicFile.h"
#include "runtime/Batcher.h"
#include "runtime/BlasGemm.h"
#include "runtime/Error.h"
#include "runtime/FeatureTransform.h"
#include "runtime/RetrievalData.h"
#include "runtime/StepRunner.h"
#include "runtime/TopK.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>

namespace recc::rt {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// Requests scored at once: bounds the user vectors and the lists held.
constexpr int64_t kRequestChunk = 8192;

/// The values of each output of a tower run over `rows` of `data`, `dim` per row.
struct TowerOut {
  std::vector<std::vector<float>> values;
  int64_t dim = 0;
};

TowerOut runTower(ModelState& state, const StepSpec& spec, StepFunction& fn, const DataSet& data,
                  std::span<const int64_t> rows, const std::string& what) {
  Batcher batcher =
      Batcher::forEvaluation(int64_t(rows.size()), state.plan().batchSize, fn.fixedBatch());
  StepRunner runner(spec, state, fn, batcher.batchSize(), what);
  TowerOut t;
  t.values.resize(runner.outputs().size());
  for (const StepRunner::Output& o : runner.outputs()) {
    if (!o.batched || (t.dim && o.perRow != t.dim))
      fail("{}: output '{}' is not one vector per row", what, o.name);
    t.dim = o.perRow;
  }
  std::vector<int64_t> batchRows;
  for (int64_t b = 0; b < batcher.numBatches(); ++b) {
    Batcher::Batch batch = batcher.batch(b);
    batchRows.clear();
    for (int64_t p : batch.rows) batchRows.push_back(rows[size_t(p)]);
    runner.run(data, batchRows, 0);
    std::vector<StepRunner::Output> outs = runner.outputs();
    for (size_t i = 0; i < outs.size(); ++i)
      t.values[i].insert(t.values[i].end(), outs[i].data, outs[i].data + batch.valid * t.dim);
  }
  return t;
}

void checkStats(const ModelState& state, const TowerSpec& towers) {
  const auto& features = state.plan().features;
  for (const StepSpec* spec : {&towers.user, &towers.item})
    for (const BufferSpec& b : spec->buffers)
      for (size_t f = 0; f < features.size(); ++f)
        if (features[f].name == b.name && needsStats(features[f]) && !state.stats[f].ready)
          fail("feature '{}' uses tanh_zscore but has no statistics: train the model or "
               "load a checkpoint first", features[f].name);
}

std::vector<int64_t> allRows(int64_t n) {
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[size_t(i)] = i;
  return rows;
}

/// Reads the corpus, the requests and the seen items; fills what `r` says about them.
void readInputs(const ModelPlan& plan, const TowerSpec& towers, const RetrievalArgs& args,
                const std::string& path, Corpus& corpus, Requests& requests,
                std::vector<std::vector<int32_t>>& seen, RetrievalResult& r) {
  const int itemKey = keyFeature(plan, towers.item, args.itemKey, "--item-key", "item");
  const int userKey = keyFeature(plan, towers.user, args.userKey, "--user-key", "user");
  r.corpus = args.corpus;
  r.excludeSeen = args.excludeSeen;
  r.itemKey = plan.features[size_t(itemKey)].name;
  r.userKey = plan.features[size_t(userKey)].name;
  r.queries = int64_t(towers.topK.size());
  corpus = readCorpus(args.corpus, plan, towers.item, itemKey);
  requests = readRequests(path, plan, towers.user, userKey, itemKey, corpus);
  if (!args.excludeSeen.empty())
    seen = readSeen(args.excludeSeen, plan, userKey, itemKey, requests, corpus);
  for (const auto& s : seen) r.excluded += int64_t(s.size());
  r.items = corpus.data.rows();
  r.requests = requests.size();
}

/// The lists of requests [c0, c1), whose query vectors (one set per top_k) are
/// `users`; several queries are merged by their max score.
TopKLists scoreChunk(const TowerOut& users, const TowerOut& items, int64_t nItems, int64_t c0,
                     int64_t c1, const std::vector<std::vector<int32_t>>& seen,
                     const TopKOptions& options) {
  if (users.dim != items.dim)
    fail("the user tower gives vectors of {} values, the item tower of {}", users.dim,
         items.dim);
  Exclusions excl;
  if (!seen.empty())
    for (int64_t i = c0; i < c1; ++i) excl.push_back(seen[size_t(i)]);
  std::vector<TopKLists> lists;
  for (const std::vector<float>& q : users.values)
    lists.push_back(topKByDot(q.data(), c1 - c0, items.values[0].data(), nItems, items.dim,
                              options, excl));
  return lists.size() == 1 ? std::move(lists[0]) : mergeByMax(lists, options.k);
}

/// Everything retrieval reads, then the top-K lists chunk by chunk:
/// `onChunk(first request, lists)` sees each chunk's merged lists.
template <typename OnChunk>
RetrievalResult retrieve(ModelState& state, const TowerSpec& towers, const TowerFactory& make,
                         const RetrievalArgs& args, const std::string& path, OnChunk&& onChunk,
                         Corpus& corpus, Requests& requests) {
  RetrievalResult r;
  checkStats(state, towers);
  std::vector<std::vector<int32_t>> seen;
  readInputs(state.plan(), towers, args, path, corpus, requests, seen, r);

  auto t = Clock::now();
  auto itemFn = make(false);
  auto userFn = make(true);
  r.compileSeconds = since(t);
  t = Clock::now();
  TowerOut items = runTower(state, towers.item, *itemFn, corpus.data, allRows(r.items),
                            "item tower");
  r.itemSeconds = since(t);
  r.dim = items.dim;
  TopKOptions options;
  options.k = *std::max_element(args.ks.begin(), args.ks.end());
  options.gemm = scoreGemm("auto");  // OpenBLAS where it loads: faster here (bench/README.md)
  for (int64_t c0 = 0; c0 < requests.size(); c0 += kRequestChunk) {
    const int64_t c1 = std::min(requests.size(), c0 + kRequestChunk);
    t = Clock::now();
    TowerOut users = runTower(state, towers.user, *userFn, requests.data,
                              std::span(requests.first).subspan(size_t(c0), size_t(c1 - c0)),
                              "user tower");
    r.userSeconds += since(t);
    t = Clock::now();
    TopKLists lists = scoreChunk(users, items, r.items, c0, c1, seen, options);
    r.scoringSeconds += since(t);
    onChunk(c0, lists);
  }
  return r;
}

/// Adds one request's metrics at every K to `sums`.
void addMetrics(const TopKLists& l, int64_t row, std::span<const int32_t> positives,
                int64_t relevant, std::vector<MetricsAtK>& sums) {
  for (MetricsAtK& m : sums) {
    const int64_t n = std::min<int64_t>(m.k, l.count[size_t(row)]);
    int64_t hits = 0;
    double dcg = 0, idcg = 0;
    for (int64_t j = 0; j < n; ++j)
      if (std::binary_search(positives.begin(), positives.end(), l.index[size_t(row * l.k + j)]))
        ++hits, dcg += 1.0 / std::log2(double(j + 2));
    for (int64_t j = 0; j < std::min(m.k, relevant); ++j) idcg += 1.0 / std::log2(double(j + 2));
    m.hitrate += hits > 0;
    m.precision += double(hits) / double(m.k);
    m.recall += double(hits) / double(relevant);
    m.ndcg += dcg / idcg;
  }
}

void checkKs(const RetrievalArgs& args) {
  if (args.ks.empty()) fail("--k: give at least one cut-off");
}

} // namespace

double RetrievalResult::scoringGflops() const {
  return scoringSeconds > 0
             ? 2.0 * double(requests) * double(items) * double(dim) * double(queries) /
                   scoringSeconds / 1e9
             : 0;
}

RetrievalResult evaluateRetrieval(ModelState& state, const TowerSpec& towers,
                                  const TowerFactory& make, const RetrievalArgs& args,
                                  const std::string& data) {
  checkKs(args);
  std::vector<MetricsAtK> sums;
  for (int64_t k : args.ks) sums.push_back({k});
  Corpus corpus;
  Requests requests;
  int64_t users = 0, positives = 0, outside = 0;
  auto onChunk = [&](int64_t c0, const TopKLists& l) {
    for (int64_t i = 0; i < l.rows(); ++i) {
      const auto& p = requests.positives[size_t(c0 + i)];
      const int64_t relevant = int64_t(p.size()) + requests.outside[size_t(c0 + i)];
      positives += relevant;
      outside += requests.outside[size_t(c0 + i)];
      if (relevant == 0) continue;
      ++users;
      addMetrics(l, i, p, relevant, sums);
    }
  };
  RetrievalResult r = retrieve(state, towers, make, args, data, onChunk, corpus, requests);
  r.users = users;
  r.positives = positives;
  r.outsideCorpus = outside;
  for (MetricsAtK m : sums) {
    const double n = users ? double(users) : NAN;
    r.atK.push_back({m.k, m.hitrate / n, m.precision / n, m.recall / n, m.ndcg / n});
  }
  return r;
}

RetrievalResult predictRetrieval(ModelState& state, const TowerSpec& towers,
                                 const TowerFactory& make, const RetrievalArgs& args,
                                 const std::string& data, const std::string& csvPath) {
  checkKs(args);
  AtomicFileWriter out(csvPath);
  out.write("user_key,rank,item_key,score\n");
  Corpus corpus;
  Requests requests;
  fmt::memory_buffer text;
  auto onChunk = [&](int64_t c0, const TopKLists& l) {
    for (int64_t i = 0; i < l.rows(); ++i) {
      text.clear();
      for (int64_t j = 0; j < l.count[size_t(i)]; ++j)
        fmt::format_to(std::back_inserter(text), "{},{},{},{}\n",
                       requests.userKey[size_t(c0 + i)], j + 1,
                       corpus.keys[size_t(l.index[size_t(i * l.k + j)])],
                       l.score[size_t(i * l.k + j)]);
      out.write(text.data(), text.size());
    }
  };
  RetrievalResult r = retrieve(state, towers, make, args, data, onChunk, corpus, requests);
  out.commit();
  return r;
}

nlohmann::json retrievalJson(const RetrievalResult& r) {
  auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json j;
  j["corpus_file"] = r.corpus;
  j["corpus"] = r.items;
  j["users"] = r.users;
  j["requests"] = r.requests;
  j["dim"] = r.dim;
  j["queries_per_user"] = r.queries;
  j["user_key"] = r.userKey;
  j["item_key"] = r.itemKey;
  j["positives"] = r.positives;
  j["positives_outside_corpus"] = r.outsideCorpus;
  j["exclude_seen"] = r.excludeSeen.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.excludeSeen);
  j["excluded_pairs"] = r.excluded;
  nlohmann::json& ks = j["k"];
  ks = nlohmann::json::object();
  for (const MetricsAtK& m : r.atK)
    ks[std::to_string(m.k)] = {{"hitrate", number(m.hitrate)},
                               {"precision", number(m.precision)},
                               {"recall", number(m.recall)},
                               {"ndcg", number(m.ndcg)}};
  j["seconds"] = {{"compile_towers", r.compileSeconds},
                  {"item_tower", r.itemSeconds},
                  {"user_tower", r.userSeconds},
                  {"scoring", r.scoringSeconds}};
  j["scoring_gflops"] = r.scoringGflops();
  return j;
}

std::string formatRetrieval(const RetrievalResult& r) {
  std::string s = fmt::format(
      "retrieval from {} ({} items, d = {}{}): {} users with positives of {} requests{}\n",
      r.corpus, r.items, r.dim,
      r.queries > 1 ? fmt::format(", {} queries per user merged by max", r.queries) : "",
      r.users, r.requests,
      r.excludeSeen.empty() ? "" : fmt::format(", {} seen pairs excluded", r.excluded));
  if (r.outsideCorpus)
    s += fmt::format("note: {} of {} positives name items not in the corpus (never retrieved)\n",
                     r.outsideCorpus, r.positives);
  s += fmt::format("  {:>6} {:>9} {:>9} {:>9} {:>9}\n", "K", "hitrate", "precision", "recall",
                   "ndcg");
  for (const MetricsAtK& m : r.atK)
    s += fmt::format("  {:>6} {:>9.5f} {:>9.5f} {:>9.5f} {:>9.5f}\n", m.k, m.hitrate,
                     m.precision, m.recall, m.ndcg);
  s += fmt::format("time: towers compiled in {:.3f} s; item tower {:.3f} s, user tower {:.3f} s, "
                   "scoring + selection {:.3f} s ({:.1f} GFLOP/s)\n",
                   r.compileSeconds, r.itemSeconds, r.userSeconds, r.scoringSeconds, r.scoringGflops());
  return s;
}

} // namespace recc::rt
