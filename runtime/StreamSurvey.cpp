// StreamSurvey: see StreamSurvey.h. Statistics merge per chunk with Chan et
// al.'s pairwise update of (count, mean, sum of squared deviations).
#include "runtime/StreamSurvey.h"

#include "runtime/ChunkPipe.h"
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

} // namespace recc::rt
