// Checkpoint: see Checkpoint.h. Loading runs in two passes: first every
// tensor the model will take is checked (presence, shape), then data is read.
// A bad checkpoint therefore never leaves a half-loaded model behind.
#include "runtime/Checkpoint.h"

#include "runtime/Cluster.h"
#include "runtime/DynamicCheckpoint.h"
#include "runtime/Error.h"
#include "runtime/SafeTensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <functional>

namespace recc::rt {
namespace {

/// One tensor a load can fill: its name, the model's shape for it, and
/// where its data goes (`dest` may allocate, e.g. optimizer state).
struct Slot {
  std::string name;
  Shape shape;
  bool required;
  std::function<float*()> dest;  // empty: feature statistics (statsFeature)
  int statsFeature = -1;
};

std::string statsName(const FeatureSpec& f) { return "feature_stats/" + f.name; }
std::string stateName(const StateSpec& s) { return "state/" + s.name; }
/// A table shadow's lazy state: its rows as held, and the step each is current at.
std::string rawName(const StateSpec& s) { return "ema_raw/" + s.name; }
std::string rowStepName(const StateSpec& s) { return "ema_step/" + s.name; }
bool isTableShadow(const StateSpec& s) { return s.kind == "ema" && s.table; }

/// Model state: as stored, except table shadows, whose rows are written
/// caught up to the current step (StateStore.h) into `scratch`.
void collectStates(const ModelState& state, std::vector<TensorRef>& out,
                   std::vector<std::vector<float>>& scratch) {
  const StateStore& st = state.states;
  for (int i = 0; i < st.size(); ++i) {
    const StateSpec& spec = st.spec(i);
    const float* data = st.value(i).data();
    if (isTableShadow(spec)) {
      scratch.push_back(st.tableAt(i, state.tables[st.source(i)], state.step));
      data = scratch.back().data();
    }
    out.push_back({stateName(spec), st.value(i).shape(), data});
    if (!isTableShadow(spec))
      continue;
    out.push_back({rawName(spec), st.value(i).shape(), st.value(i).data()});
    std::span<const int64_t> steps = st.rowSteps(i);
    out.push_back({rowStepName(spec), {int64_t(steps.size())}, nullptr, DType::I64,
                   [steps](int64_t first, int64_t count, void* to) {
                     std::memcpy(to, steps.data() + first, size_t(count) * sizeof(int64_t));
                   }});
  }
}

std::string slotName(OptimizerKind kind, int s, const std::string& owner) {
  return std::string(optimizerSlotName(kind, s)) + "/" + owner;
}

std::vector<TensorRef> collectTensors(const ModelState& state,
                                      std::vector<std::vector<float>>& statsData) {
  std::vector<TensorRef> out;
  const OptimizerKind kind = state.denseOptimizer.kind();
  for (int i = 0; i < state.params.size(); ++i)
    out.push_back({state.params.name(i), state.params.value(i).shape(),
                   state.params.value(i).data()});
  for (const EmbeddingTable& t : state.tables)
    if (!t.isDynamic())
      out.push_back({t.name(), t.weights().shape(), t.weights().data()});
  collectDynamicTables(state, out);
  for (int s = 0; s < optimizerSlots(kind); ++s) {
    for (int i = 0; i < state.params.size(); ++i)
      if (const Tensor* m = state.denseOptimizer.slotIfAllocated(i, s))
        out.push_back({slotName(kind, s, state.params.name(i)), m->shape(), m->data()});
    for (const EmbeddingTable& t : state.tables)
      if (const Tensor* m = t.slotIfAllocated(s))
        out.push_back({slotName(kind, s, t.name()), m->shape(), m->data()});
  }
  const auto& features = state.plan().features;
  for (size_t f = 0; f < features.size(); ++f)
    if (state.stats[f].ready) {
      statsData.push_back({static_cast<float>(state.stats[f].mean),
                           static_cast<float>(state.stats[f].stddev)});
      out.push_back({statsName(features[f]), {2}, statsData.back().data()});
    }
  collectStates(state, out, statsData);
  return out;
}

int64_t parseCounter(const SafeTensorsReader& in, const char* key) {
  std::string text = in.meta(key, "0");
  int64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || value < 0)
    fail("{}: malformed metadata '{}': '{}'", in.path(), key, text);
  return value;
}

void checkFormat(const SafeTensorsReader& in) {
  if (in.meta("format") != "recc-checkpoint")
    fail("{}: not a recc checkpoint (metadata 'format' is '{}')", in.path(),
         in.meta("format"));
  if (in.meta("format_version") != kCheckpointFormatVersion)
    fail("{}: checkpoint format version '{}' is not supported (expected '{}')",
         in.path(), in.meta("format_version"), kCheckpointFormatVersion);
  parseCounter(in, "step");
  parseCounter(in, "epoch");
}

/// Optimizer state tensors `state` can take (all optional: state of a
/// parameter that was never updated is not saved).
void addOptimizerSlots(const SafeTensorsReader& in, ModelState& state,
                       std::vector<Slot>& slots) {
  const OptimizerKind kind = state.denseOptimizer.kind();
  const OptimizerSpec& spec = state.plan().optimizer;
  for (int s = 0; s < optimizerSlots(kind); ++s) {
    for (int i = 0; i < state.params.size(); ++i)
      slots.push_back({slotName(kind, s, state.params.name(i)),
                       state.params.value(i).shape(), false, [&state, i, s] {
                         return state.denseOptimizer.slot(state.params, i, s).data();
                       }});
    for (EmbeddingTable& t : state.tables)
      if (!loadsByRows(in, t))  // else DynamicCheckpoint.h loads its state
        slots.push_back({slotName(kind, s, t.name()), t.weights().shape(), false,
                         [&t, &spec, s] { return t.slot(spec, s).data(); }});
  }
}

/// True if the load takes optimizer state: not a transfer, same optimizer.
bool withOptimizer(const SafeTensorsReader& in, const ModelState& state,
                   const LoadOptions& options) {
  return !options.transfer && in.meta("optimizer") == state.plan().optimizer.kind;
}

/// Every tensor `state` can take from `in`, but for tables loaded by rows.
std::vector<Slot> loadSlots(const SafeTensorsReader& in, ModelState& state,
                            const LoadOptions& options) {
  std::vector<Slot> slots;
  // Parameters and tables are required by a transfer too: the earlier stage
  // has the same statement names (the whole SIM transfers, zeus.md 3.1), so
  // a missing one is a renamed statement, not something to start afresh.
  for (int i = 0; i < state.params.size(); ++i)
    slots.push_back({state.params.name(i), state.params.value(i).shape(), true,
                     [&state, i] { return state.params.value(i).data(); }});
  for (EmbeddingTable& t : state.tables)
    if (!loadsByRows(in, t))  // else DynamicCheckpoint.h loads it
      slots.push_back({t.name(), t.weights().shape(), true,
                       [&t] { return t.weights().data(); }});
  const bool required = !options.transfer;
  const auto& features = state.plan().features;
  for (size_t f = 0; f < features.size(); ++f)
    if (needsStats(features[f]))
      slots.push_back({statsName(features[f]), {2}, false, {}, int(f)});
  for (int i = 0; i < state.states.size(); ++i)
    slots.push_back({stateName(state.states.spec(i)), state.states.value(i).shape(), required,
                     [&state, i] { return state.states.value(i).data(); }});
  if (withOptimizer(in, state, options))
    addOptimizerSlots(in, state, slots);
  return slots;
}

/// Feature statistics at full (double) precision as JSON metadata: the F32
/// tensors round them, and a resumed run that standardizes with rounded
/// statistics would no longer match an uninterrupted one bit for bit.
/// (JSON numbers written by nlohmann::json read back as the same double.)
std::string exactStats(const ModelState& state) {
  nlohmann::json j = nlohmann::json::object();
  const auto& features = state.plan().features;
  for (size_t f = 0; f < features.size(); ++f)
    if (state.stats[f].ready)
      j[features[f].name] = {state.stats[f].mean, state.stats[f].stddev};
  return j.dump();
}

/// The exact statistics of `feature` from the metadata, if present and valid.
std::optional<std::pair<double, double>> readExactStats(const SafeTensorsReader& in,
                                                        const std::string& feature) {
  auto j = nlohmann::json::parse(in.meta("feature_stats", "{}"), nullptr, false);
  if (!j.is_object() || !j.contains(feature))
    return std::nullopt;
  const auto& v = j[feature];
  if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
    fail("{}: malformed metadata 'feature_stats' for feature '{}'", in.path(), feature);
  return std::pair{v[0].get<double>(), v[1].get<double>()};
}

/// A transfer names every parameter and table the checkpoint lacks at once.
void checkTransferComplete(const SafeTensorsReader& in, const std::vector<Slot>& slots,
                           const std::string& model) {
  std::vector<std::string> missing;
  for (const Slot& s : slots)
    if (s.required && !in.has(s.name))
      missing.push_back("'" + s.name + "'");
  if (missing.empty())
    return;
  const size_t shown = std::min<size_t>(missing.size(), 8);
  std::string more = missing.size() > shown
                         ? fmt::format(" and {} more", missing.size() - shown)
                         : "";
  fail("{}: checkpoint of model '{}' lacks {} of model '{}' ({}{}); a stage starts from "
       "every parameter and table of the earlier one, found by name",
       in.path(), in.meta("model"), missing.size() == 1 ? "a tensor" : fmt::format("{} tensors", missing.size()),
       model, fmt::join(missing.begin(), missing.begin() + shown, ", "), more);
}

/// A table shadow whose lazy state a resume loads, with its row steps.
struct LazyShadow {
  int index;
  std::vector<int64_t> steps;
};

/// The table shadows whose lazy state (ema_raw/, ema_step/) `in` holds,
/// checked before anything changes; none for a transfer, which starts the
/// counters afresh. A checkpoint without them loads the caught-up rows.
std::vector<LazyShadow> checkLazyShadows(const SafeTensorsReader& in, const ModelState& state,
                                         const LoadOptions& options) {
  std::vector<LazyShadow> out;
  if (options.transfer)
    return out;
  const int64_t step = parseCounter(in, "step");
  for (int i = 0; i < state.states.size(); ++i) {
    const StateSpec& spec = state.states.spec(i);
    const std::string raw = rawName(spec), steps = rowStepName(spec);
    if (!isTableShadow(spec) || (!in.has(raw) && !in.has(steps)))
      continue;
    if (!in.has(raw) || !in.has(steps))
      fail("{}: tensor '{}' is there without '{}' (the lazy state of EMA shadow '{}' needs "
           "both)", in.path(), in.has(raw) ? raw : steps, in.has(raw) ? steps : raw,
           spec.name);
    const Shape rows{state.states.value(i).shape()[0]};
    if (in.dtype(raw) != DType::F32 || in.shape(raw) != state.states.value(i).shape())
      fail("{}: tensor '{}' must be F32 {}", in.path(), raw,
           shapeString(state.states.value(i).shape()));
    if (in.dtype(steps) != DType::I64 || in.shape(steps) != rows)
      fail("{}: tensor '{}' must be I64 {}", in.path(), steps, shapeString(rows));
    if (int64_t bad = in.verify(raw); bad >= 0 && !options.allowNonFinite)
      fail("{}: tensor '{}' has a non-finite value at element {}; nothing was loaded "
           "(--allow-non-finite loads it anyway)", in.path(), raw, bad);
    in.verify(steps);
    LazyShadow lazy{i, std::vector<int64_t>(size_t(rows[0]))};
    in.readRange(steps, 0, rows[0], lazy.steps.data());
    for (size_t r = 0; r < lazy.steps.size(); ++r)
      if (lazy.steps[r] < 0 || lazy.steps[r] > step)
        fail("{}: tensor '{}' element {}: step {} is outside [0, {}] (the checkpoint's step)",
             in.path(), steps, r, lazy.steps[r], step);
    out.push_back(std::move(lazy));
  }
  return out;
}

} // namespace

namespace {

void writeCheckpointFile(const std::string& path, const ModelState& state,
                         const std::map<std::string, std::string>& extra) {
  std::vector<std::vector<float>> statsData;
  statsData.reserve(state.stats.size());
  std::vector<TensorRef> tensors = collectTensors(state, statsData);
  std::map<std::string, std::string> meta{
      {"format", "recc-checkpoint"},
      {"format_version", kCheckpointFormatVersion},
      {"model", state.plan().model},
      {"step", std::to_string(state.step)},
      {"epoch", std::to_string(state.epoch)},
      {"optimizer", state.plan().optimizer.kind},
      {"plan", toJson(state.plan())},
      {"feature_stats", exactStats(state)},
  };
  meta.insert(extra.begin(), extra.end());
  writeSafeTensors(path, tensors, meta);
}

constexpr const char* kShardsKey = "shards";     // in the checkpoint: the other ranks' files
constexpr const char* kShardOfKey = "shard_of";  // in a shard file: its checkpoint

/// The files of a sharded checkpoint besides `in`, as its metadata lists
/// them (names relative to its directory); empty for other checkpoints.
std::vector<std::string> shardNames(const SafeTensorsReader& in) {
  if (!in.metadata().count(kShardsKey))
    return {};
  auto j = nlohmann::json::parse(in.meta(kShardsKey), nullptr, false);
  if (!j.is_array())
    fail("{}: malformed metadata '{}': '{}'", in.path(), kShardsKey, in.meta(kShardsKey));
  std::vector<std::string> names;
  for (const auto& f : j) {
    if (!f.is_string())
      fail("{}: malformed metadata '{}': '{}'", in.path(), kShardsKey, in.meta(kShardsKey));
    names.push_back(f.get<std::string>());
  }
  return names;
}

/// The paths of shardNames(in).
std::vector<std::string> shardFiles(const SafeTensorsReader& in) {
  std::vector<std::string> files;
  const std::filesystem::path dir = std::filesystem::path(in.path()).parent_path();
  for (const std::string& name : shardNames(in)) files.push_back((dir / name).string());
  return files;
}

} // namespace

std::vector<std::string> checkpointFiles(const std::string& path) {
  std::vector<std::string> files{path};
  try {
    SafeTensorsReader in(path);
    for (std::string& f : shardFiles(in)) files.push_back(std::move(f));
  } catch (const RuntimeError&) {
    // The load reports what is wrong with the file.
  }
  return files;
}

namespace {

/// Sharded tables under mpirun: every rank but 0 writes its rows to a file
/// of its own, named by the step; then rank 0 writes `path` with its rows and
/// the list of those files. Renaming `path` into place switches the whole
/// checkpoint at once; the previous one's files are removed after.
void saveShards(const std::string& path, const ModelState& state,
                std::map<std::string, std::string> extra) {
  const int ranks = Cluster::size();
  const std::filesystem::path base(path);
  const std::string dirName = base.filename().string() + ".shards";
  auto shardName = [&](int r) {
    return fmt::format("{}/step{}-rank{}-of-{}.safetensors", dirName, state.step, r, ranks);
  };
  if (Cluster::rank() != 0) {
    std::error_code ec;
    std::filesystem::create_directories(base.parent_path() / dirName, ec);
    extra[kShardOfKey] = base.filename().string();
    writeCheckpointFile((base.parent_path() / shardName(Cluster::rank())).string(), state, extra);
  }
  Cluster::barrier();  // every shard is on disk before the checkpoint names it
  if (Cluster::rank() != 0)
    return;
  std::vector<std::string> previous;
  if (std::filesystem::exists(base)) {
    try {
      previous = shardNames(SafeTensorsReader(path));
    } catch (const RuntimeError&) {
      // A damaged earlier checkpoint leaves nothing to remove.
    }
  }
  nlohmann::json names = nlohmann::json::array();
  for (int r = 1; r < ranks; ++r) names.push_back(shardName(r));
  extra[kShardsKey] = names.dump();
  writeCheckpointFile(path, state, extra);
  std::error_code ec;
  for (const std::string& old : previous)
    if (std::find(names.begin(), names.end(), old) == names.end())
      std::filesystem::remove(base.parent_path() / old, ec);
}

} // namespace

void saveCheckpoint(const std::string& path, const ModelState& state,
                    const std::map<std::string, std::string>& extra) {
  if (state.shardedTables && Cluster::distributed())
    return saveShards(path, state, extra);
  // Under mpirun every rank holds the same parameters and tables (StepRunner
  // averages the gradients over the ranks): rank 0 writes them for all.
  if (Cluster::rank() == 0)
    writeCheckpointFile(path, state, extra);
}

void loadCheckpoint(const std::string& path, ModelState& state,
                    const LoadOptions& options) {
  SafeTensorsReader in(path);
  checkFormat(in);
  if (in.metadata().count(kShardOfKey))
    fail("{}: this file holds one rank's rows of the sharded checkpoint '{}' "
         "(docs/distributed.md); load that checkpoint", path, in.meta(kShardOfKey));
  if (!options.transfer && in.meta("model") != state.plan().model)
    fail("{}: checkpoint is for model '{}', not '{}'", path, in.meta("model"),
         state.plan().model);
  std::vector<Slot> slots = loadSlots(in, state, options);
  if (options.transfer)
    checkTransferComplete(in, slots, state.plan().model);
  for (const Slot& s : slots) {
    if (!in.has(s.name)) {
      if (s.required)
        fail("{}: missing tensor '{}'{}", path, s.name,
             s.name.starts_with("state/") ? " (model state the model keeps across steps)"
                                          : "");
      continue;
    }
    if (in.shape(s.name) != s.shape)
      fail("{}: tensor '{}' has shape {} in checkpoint but {} in model", path, s.name,
           shapeString(in.shape(s.name)), shapeString(s.shape));
    if (in.dtype(s.name) != DType::F32)
      fail("{}: tensor '{}' has dtype I64 in checkpoint; expected F32", path, s.name);
    // Read once here to check it (CRC-32, finite values) before anything changes.
    if (int64_t i = in.verify(s.name); i >= 0 && !options.allowNonFinite)
      fail("{}: tensor '{}' has a non-finite value at element {}; nothing was loaded "
           "(--allow-non-finite loads it anyway)", path, s.name, i);
  }
  // Dynamic tables are required by a transfer too, as dense ones are.
  const std::vector<RowsLoad> byRows = checkRowsLoads(
      in, state, true, withOptimizer(in, state, options), options.allowNonFinite);
  std::vector<LazyShadow> lazy = checkLazyShadows(in, state, options);
  // A sharded checkpoint: the other ranks' rows, each file checked first.
  std::vector<std::unique_ptr<SafeTensorsReader>> shards;
  std::vector<std::vector<RowsLoad>> shardRows;
  for (const std::string& file : shardFiles(in)) {
    shards.push_back(std::make_unique<SafeTensorsReader>(file));
    checkFormat(*shards.back());
    shardRows.push_back(checkRowsLoads(*shards.back(), state, true,
                                       withOptimizer(in, state, options), options.allowNonFinite));
  }
  loadRows(in, state, byRows);
  for (size_t k = 0; k < shards.size(); ++k)
    loadRows(*shards[k], state, shardRows[k], /*replace=*/false);
  for (const Slot& s : slots) {
    if (!in.has(s.name))
      continue;
    if (s.dest) {
      in.read(s.name, s.dest());
      continue;
    }
    float ms[2];
    in.read(s.name, ms);
    const std::string& feature = state.plan().features[s.statsFeature].name;
    if (auto exact = readExactStats(in, feature))
      state.stats[s.statsFeature] = {exact->first, exact->second, true};
    else
      state.stats[s.statsFeature] = {ms[0], ms[1], true};
  }
  if (options.transfer) {
    // A shadow the checkpoint lacks starts again as a copy of its (loaded) source.
    for (int i = 0; i < state.states.size(); ++i)
      if (state.states.spec(i).kind == "ema" && !in.has(stateName(state.states.spec(i))))
        state.states.resetShadow(i, state.params, state.tables);
  } else {
    state.step = parseCounter(in, "step");
    state.epoch = parseCounter(in, "epoch");
  }
  state.states.markCurrent(state.step);
  for (const LazyShadow& l : lazy) {
    in.read(rawName(state.states.spec(l.index)), state.states.value(l.index).data());
    std::copy(l.steps.begin(), l.steps.end(), state.states.rowSteps(l.index).begin());
  }
}

std::map<std::string, std::string> readCheckpointMetadata(const std::string& path) {
  SafeTensorsReader in(path);
  checkFormat(in);
  return in.metadata();
}

} // namespace recc::rt
