// StreamSurvey: see StreamSurvey.h. Statistics merge per chunk with Chan et
// al.'s pairwise update of (count, mean, sum of squared deviations).
#include "runtime/StreamSurvey.h"

#include "runtime/Bytes.h"
#include "runtime/ChunkPipe.h"
#include "runtime/Cluster.h"
#include "runtime/ShardedData.h"
#include "runtime/TouchedRows.h"
#include "runtime/TrainPosition.h"

#include <algorithm>
#include <cmath>

namespace recc::rt {
namespace {

struct Moments {
  double n = 0, mean = 0, m2 = 0;

  void add(std::span<const float> x) {
    if (x.empty()) return;
    double sum = 0;
    for (float v : x) sum += v;
    const double nb = double(x.size()), meanB = sum / nb;
    double m2b = 0;
    for (float v : x) m2b += (v - meanB) * (v - meanB);
    const double total = n + nb, delta = meanB - mean;
    mean += delta * nb / total;
    m2 += m2b + delta * delta * n * nb / total;
    n = total;
  }
};

} // namespace

int64_t chunkRowsFor(int64_t bufferRows) {
  return std::clamp<int64_t>(bufferRows / 4, 1024, 65536);
}

void surveyStream(const ModelPlan& plan, StreamedData& data, DynamicRowCounts& touched) {
  std::vector<Moments> moments(plan.features.size());
  DynamicRowCounts bound;
  data.rows = 0;
  data.fingerprint = {};
  ChunkPipe pipe(data.files, plan, data.read, data.chunkRows);
  for (DataSet chunk = pipe.next(); chunk.rows() > 0; chunk = pipe.next()) {
    data.rows += chunk.rows();
    addChunk(data.fingerprint, fingerprint(plan, chunk));
    for (size_t f = 0; f < plan.features.size(); ++f)
      if (needsStats(plan.features[f]))
        moments[f].add(chunk.dense(int(f)));
    for (const auto& [table, rows] : touchedRows(plan, chunk)) bound[table] += rows;
  }
  data.stats.assign(plan.features.size(), FeatureStats{});
  for (size_t f = 0; f < plan.features.size(); ++f)
    if (needsStats(plan.features[f]) && moments[f].n > 0)
      data.stats[f] = {moments[f].mean, std::sqrt(moments[f].m2 / moments[f].n), true};
  for (const TableSpec& t : plan.tables)
    if (bound.count(t.name)) touched[t.name] += std::min(bound[t.name], t.rows);
}

void combineSurveysOverRanks(const ModelPlan& plan, bool shardTables, StreamedData& data,
                             DynamicRowCounts& touched) {
  data.rankRows = allGatherValue(data.rows);
  data.stats = combineFeatureStats(data.stats, data.rows);
  data.fingerprint = rankedFingerprint(data.fingerprint);
  const int64_t ranks = Cluster::size();
  for (const TableSpec& t : plan.tables) {
    const auto it = touched.find(t.name);
    const double all = sumOverRanks(it == touched.end() ? 0.0 : double(it->second));
    if (it == touched.end())
      continue;
    const int64_t owned = shardTables ? (t.rows + ranks - 1) / ranks : t.rows;
    it->second = std::min(int64_t(all), owned);
  }
}

} // namespace recc::rt
