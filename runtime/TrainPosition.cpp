// TrainPosition: see TrainPosition.h. The fingerprint hashes each column in
// chunks in parallel and combines the chunk hashes in order, so it does not
// depend on the thread count.
#include "runtime/TrainPosition.h"

#include "runtime/Error.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"

#include <nlohmann/json.hpp>

#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace recc::rt {
namespace {

constexpr size_t kChunkBytes = size_t(1) << 22;

/// A hash of `bytes` bytes at `data`, 8 bytes at a time.
uint64_t hashBytes(const void* data, size_t bytes) {
  const size_t chunks = (bytes + kChunkBytes - 1) / kChunkBytes;
  std::vector<uint64_t> partial(chunks);
  tbb::parallel_for(size_t(0), chunks, [&](size_t c) {
    const auto* p = static_cast<const unsigned char*>(data) + c * kChunkBytes;
    const size_t n = std::min(kChunkBytes, bytes - c * kChunkBytes);
    uint64_t h = combine(c, n);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      h = combine(h, word);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p + i, n - i);
    partial[c] = combine(h, tail);
  });
  uint64_t h = combine(hashString("bytes"), bytes);
  for (uint64_t x : partial) h = combine(h, x);
  return h;
}

template <typename T>
uint64_t hashSpan(std::span<const T> s) {
  return hashBytes(s.data(), s.size_bytes());
}

std::string hex(uint64_t v) { return fmt::format("{:016x}", v); }

int64_t field(const nlohmann::json& j, const char* key, const std::string& path) {
  if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() < 0)
    fail("{}: malformed metadata '{}': field '{}' is missing or not a count", path,
         kPositionKey, key);
  return j[key].get<int64_t>();
}

} // namespace

DataFingerprint fingerprint(const ModelPlan& plan, const DataSet& data) {
  uint64_t h = combine(hashString("recc-data"), uint64_t(data.rows()));
  for (size_t f = 0; f < plan.features.size(); ++f) {
    h = combine(h, uint64_t(data.width(int(f))));
    h = combine(h, hashSpan(data.dense(int(f))));
    h = combine(h, hashSpan(data.ids(int(f))));
  }
  for (size_t l = 0; l < plan.labels.size(); ++l)
    if (data.hasLabel(int(l)))
      h = combine(h, hashSpan(data.label(int(l))));
  return {data.rows(), h};
}

DataFingerprint rowFingerprint(const ModelPlan& plan, const DataSet& data, int64_t first) {
  std::atomic<uint64_t> sum{0};
  parallelChunks(data.rows(), 4096, [&](int64_t begin, int64_t end) {
    uint64_t part = 0;
    for (int64_t r = begin; r < end; ++r) {
      uint64_t h = combine(hashString("recc-row"), uint64_t(first + r));
      for (size_t f = 0; f < plan.features.size(); ++f) {
        const int fi = int(f);
        if (plan.features[f].kind == FeatureSpec::Kind::Dense) {
          h = combine(h, std::bit_cast<uint32_t>(data.dense(fi)[size_t(r)]));
          continue;
        }
        for (int64_t w = 0, n = data.width(fi); w < n; ++w)
          h = combine(h, uint64_t(data.ids(fi)[size_t(r * n + w)]));
      }
      for (size_t l = 0; l < plan.labels.size(); ++l)
        if (data.hasLabel(int(l)) && data.rows() > 0)
          h = combine(h, std::bit_cast<uint32_t>(data.label(int(l))[size_t(r)]));
      part += h;  // a sum: the same in any order and over any split
    }
    sum += part;
  });
  return {data.rows(), sum.load()};
}

void addChunk(DataFingerprint& whole, const DataFingerprint& chunk) {
  whole.rows += chunk.rows;
  whole.hash = combine(whole.hash, chunk.hash);
}

std::string positionJson(const TrainPosition& p) {
  nlohmann::json data = nlohmann::json::array();
  for (const DataFingerprint& d : p.data)
    data.push_back({{"rows", d.rows}, {"fingerprint", hex(d.hash)}});
  nlohmann::json j{{"last_epoch", p.lastEpoch}, {"epoch_step", p.epochStep},
                   {"epoch_batches", p.epochBatches}, {"seed", p.seed},
                   {"batch", p.batch}, {"data", data}};
  if (p.streamBuffer > 0)
    j["stream_buffer"] = p.streamBuffer;
  if (p.ranks > 1)
    j["ranks"] = p.ranks;
  if (p.rowFingerprints)
    j["fingerprints"] = "rows";
  return j.dump();
}

std::optional<TrainPosition> readPosition(const std::map<std::string, std::string>& meta,
                                          const std::string& path) {
  auto it = meta.find(kPositionKey);
  if (it == meta.end())
    return std::nullopt;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() ||
      !j.contains("seed") || !j["seed"].is_number_unsigned())
    fail("{}: malformed metadata '{}': '{}'", path, kPositionKey, it->second);
  TrainPosition p;
  p.lastEpoch = field(j, "last_epoch", path);
  p.epochStep = field(j, "epoch_step", path);
  p.epochBatches = field(j, "epoch_batches", path);
  p.batch = field(j, "batch", path);
  p.seed = j["seed"].get<uint64_t>();
  if (j.contains("stream_buffer"))
    p.streamBuffer = field(j, "stream_buffer", path);
  if (j.contains("ranks"))
    p.ranks = field(j, "ranks", path);
  p.rowFingerprints = j.contains("fingerprints") && j["fingerprints"] == "rows";
  for (const auto& d : j["data"]) {
    if (!d.is_object() || !d.contains("fingerprint") || !d["fingerprint"].is_string())
      fail("{}: malformed metadata '{}': a data entry lacks its fingerprint", path,
           kPositionKey);
    const std::string text = d["fingerprint"].get<std::string>();
    char* end = nullptr;
    const uint64_t hash = std::strtoull(text.c_str(), &end, 16);
    if (text.size() != 16 || *end != '\0')
      fail("{}: malformed metadata '{}': fingerprint '{}'", path, kPositionKey, text);
    p.data.push_back({field(d, "rows", path), hash});
  }
  if (p.epochStep > 0 && p.epochStep >= p.epochBatches)
    fail("{}: malformed metadata '{}': epoch_step {} of {} batches", path, kPositionKey,
         p.epochStep, p.epochBatches);
  return p;
}

namespace {
std::string rankCount(int64_t ranks) {
  return ranks > 1 ? fmt::format("{} ranks (mpirun)", ranks) : "one process";
}
} // namespace

void checkMidEpochResume(const TrainPosition& saved, const TrainPosition& now, int64_t epoch,
                         const std::string& path, const std::vector<std::string>& dataNames) {
  const std::string where =
      fmt::format("--init {}: the checkpoint stopped mid-epoch (epoch {}, after step {} of {})",
                  path, epoch + 1, saved.epochStep, saved.epochBatches);
  const std::string fix =
      "resuming mid-epoch continues the same permutation, so it needs the same data, seed "
      "and batch size (an epoch-end checkpoint may resume on other data)";
  if (saved.seed != now.seed)
    fail("{} with seed {}, this run has seed {}; {}", where, saved.seed, now.seed, fix);
  if (saved.batch != now.batch || saved.epochBatches != now.epochBatches)
    fail("{} in batches of {} ({} per epoch), this run has batches of {} ({} per epoch); {}",
         where, saved.batch, saved.epochBatches, now.batch, now.epochBatches, fix);
  if (saved.streamBuffer != now.streamBuffer) {
    const auto how = [](int64_t rows) {
      return rows > 0 ? fmt::format("through a shuffle buffer of {} rows (--stream-buffer)", rows)
                      : std::string("in memory");
    };
    fail("{} reading its data {}, this run reads it {}; {}", where, how(saved.streamBuffer),
         how(now.streamBuffer), fix);
  }
  if (saved.rowFingerprints != now.rowFingerprints)
    fail("{} in {}, this run has {}; such a checkpoint resumes mid-epoch in one process only, "
         "since under mpirun no rank holds all the rows its data fingerprint covers (an "
         "epoch-end checkpoint resumes under any number of ranks)", where,
         rankCount(saved.ranks), rankCount(now.ranks));
  if (saved.data.size() != now.data.size())
    fail("{} on {} data sets, this run reads {}; {}", where, saved.data.size(),
         now.data.size(), fix);
  for (size_t k = 0; k < saved.data.size(); ++k) {
    const DataFingerprint &a = saved.data[k], &b = now.data[k];
    const std::string& name = k < dataNames.size() ? dataNames[k] : "the data";
    if (a.rows != b.rows)
      fail("{} on data of {} rows, but {} has {} rows; {}", where, a.rows, name, b.rows, fix);
    if (a.hash != b.hash)
      fail("{} on data of {} rows with fingerprint {}, but {} has fingerprint {} (the same "
           "row count, other values or another row order); {}",
           where, a.rows, hex(a.hash), name, hex(b.hash), fix);
  }
}

} // namespace recc::rt
