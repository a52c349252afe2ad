// ModelPlan serialization: the plan travels as JSON from the compiler to the
// runtime (and into standalone trainers and checkpoints). Keys are the C++
// field names; enums are lowercase snake-case strings. Reading is strict about
// types and enum values and tolerant about absent optional fields (they keep
// the struct defaults), and every failure names the field by its JSON path,
// e.g. "model plan: field 'tables[1].rows': expected an integer, got string".
#include "runtime/ModelPlan.h"

#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <utility>

namespace recc::rt {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<FeatureSpec::Kind, const char*>, 3> kKinds{{
    {FeatureSpec::Kind::Categorical, "categorical"},
    {FeatureSpec::Kind::MultiCategorical, "multi_categorical"},
    {FeatureSpec::Kind::Dense, "dense"},
}};

using Role = BufferSpec::Role;
constexpr std::array<std::pair<Role, const char*>, 13> kRoles{{
    {Role::Feature, "feature"},   {Role::EmbeddingRows, "embedding_rows"},
    {Role::Label, "label"},       {Role::Param, "param"},
    {Role::Seed, "seed"},         {Role::State, "state"},
    {Role::Progress, "progress"}, {Role::BatchSlice, "batch_slice"},
    {Role::Output, "output"},     {Role::Loss, "loss"},
    {Role::LossTerm, "loss_term"}, {Role::Gradient, "gradient"},
    {Role::StateUpdate, "state_update"},
}};

template <typename E, size_t N>
const char* enumName(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e)
      return name;
  return "?";
}

// ---------------------------------------------------------------- writing

Json initJson(const InitSpec& s) { return {{"kind", s.kind}, {"scale", s.scale}}; }

Json featureJson(const FeatureSpec& f) {
  Json j{{"name", f.name},   {"column", f.column},
         {"kind", enumName(kKinds, f.kind)},
         {"vocab", f.vocab}, {"maxLen", f.maxLen}, {"words", f.words},
         {"table", f.table}, {"transform", f.transform}};
  if (f.stream > 0)  // plans without streams keep their JSON
    j["stream"] = f.stream;
  // Written only when used, so plans of integer-id models read as before.
  if (!f.lookup.empty()) j["lookup"] = f.lookup;
  if (!f.vocabFile.empty()) j["vocabFile"] = f.vocabFile;
  if (!f.boundaries.empty()) j["boundaries"] = f.boundaries;
  if (f.hasNa) j["na"] = f.na;
  return j;
}

Json stepJson(const StepSpec& s) {
  Json buffers = Json::array();
  for (const BufferSpec& b : s.buffers) {
    Json j{{"role", enumName(kRoles, b.role)}, {"name", b.name}, {"shape", b.shape}};
    if (!b.ids.empty())
      j["ids"] = b.ids;
    buffers.push_back(std::move(j));
  }
  return {{"symbol", s.symbol}, {"buffers", std::move(buffers)}};
}

Json optimizerJson(const OptimizerSpec& o) {
  return {{"kind", o.kind},   {"lr", o.lr},   {"beta1", o.beta1},
          {"beta2", o.beta2}, {"eps", o.eps},
          {"initialAccumulator", o.initialAccumulator}};
}

// ---------------------------------------------------------------- reading

/// Reads fields of one JSON object, naming them by their path on failure.
class Fields {
public:
  Fields(const Json& obj, std::string path) : Obj(obj), Path(std::move(path)) {
    if (!Obj.is_object())
      fail("model plan: field '{}': expected an object, got {}", where(""),
           Obj.type_name());
  }

  template <typename T> void get(const char* key, T& out, bool required = false) const {
    auto it = Obj.find(key);
    if (it == Obj.end()) {
      if (required)
        fail("model plan: missing field '{}'", where(key));
      return;
    }
    check<T>(*it, key);
    try {
      out = it->template get<T>();
    } catch (const Json::exception& e) {
      fail("model plan: field '{}': {}", where(key), e.what());
    }
  }

  /// Calls `each(Fields)` for every element of the array field `key`.
  template <typename F> void forEach(const char* key, F each, bool required = false) const {
    auto it = Obj.find(key);
    if (it == Obj.end()) {
      if (required)
        fail("model plan: missing field '{}'", where(key));
      return;
    }
    if (!it->is_array())
      fail("model plan: field '{}': expected an array, got {}", where(key),
           it->type_name());
    for (size_t i = 0; i < it->size(); ++i)
      each(Fields((*it)[i], fmt::format("{}[{}]", where(key), i)));
  }

  Fields child(const char* key) const {
    auto it = Obj.find(key);
    if (it == Obj.end())
      fail("model plan: missing field '{}'", where(key));
    return Fields(*it, where(key));
  }
  bool has(const char* key) const { return Obj.contains(key); }

  template <typename E, size_t N>
  E getEnum(const char* key, const std::array<std::pair<E, const char*>, N>& table) const {
    std::string name;
    get(key, name, /*required=*/true);
    std::string options;
    for (const auto& [value, text] : table) {
      if (name == text)
        return value;
      options += options.empty() ? text : fmt::format(", {}", text);
    }
    fail("model plan: field '{}': expected one of {}, got '{}'", where(key),
         options, name);
  }

  std::string where(const char* key) const {
    if (!*key)
      return Path.empty() ? "<root>" : Path;
    return Path.empty() ? key : fmt::format("{}.{}", Path, key);
  }

private:
  template <typename T> void check(const Json& v, const char* key) const {
    bool ok;
    const char* want;
    if constexpr (std::is_same_v<T, std::string>) {
      ok = v.is_string(), want = "a string";
    } else if constexpr (std::is_same_v<T, bool>) {
      ok = v.is_boolean(), want = "a boolean";
    } else if constexpr (std::is_integral_v<T>) {
      ok = v.is_number_integer(), want = "an integer";
      if (ok && std::is_unsigned_v<T> && v.is_number_integer() &&
          !v.is_number_unsigned() && v.get<int64_t>() < 0)
        ok = false, want = "a non-negative integer";
    } else if constexpr (std::is_floating_point_v<T>) {
      ok = v.is_number(), want = "a number";
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      ok = v.is_array(), want = "an array of numbers";
      if (ok)
        for (const Json& e : v)
          ok = ok && e.is_number();
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      ok = v.is_array(), want = "an array of strings";
      if (ok)
        for (const Json& e : v)
          ok = ok && e.is_string();
    } else {
      ok = v.is_array(), want = "an array of integers";
      if (ok)
        for (const Json& e : v)
          ok = ok && e.is_number_integer();
    }
    if (!ok)
      fail("model plan: field '{}': expected {}, got {}", where(key), want,
           v.dump());
  }

  const Json& Obj;
  std::string Path;
};

InitSpec readInit(const Fields& f, InitSpec init) {
  f.get("kind", init.kind);
  f.get("scale", init.scale);
  return init;
}

FeatureSpec readFeature(const Fields& f) {
  FeatureSpec s;
  f.get("name", s.name, true);
  s.column = s.name;
  f.get("column", s.column);
  s.kind = f.getEnum("kind", kKinds);
  f.get("vocab", s.vocab);
  f.get("maxLen", s.maxLen);
  f.get("words", s.words);
  f.get("table", s.table);
  f.get("transform", s.transform);
  f.get("stream", s.stream);
  f.get("lookup", s.lookup);
  f.get("vocabFile", s.vocabFile);
  f.get("boundaries", s.boundaries);
  s.hasNa = f.has("na");
  f.get("na", s.na);
  return s;
}

StepSpec readStep(const Fields& f) {
  StepSpec s;
  f.get("symbol", s.symbol);
  f.forEach("buffers", [&](const Fields& b) {
    BufferSpec spec{b.getEnum("role", kRoles), "", {}};
    b.get("name", spec.name, true);
    b.get("shape", spec.shape, true);
    b.get("ids", spec.ids);
    s.buffers.push_back(std::move(spec));
  });
  return s;
}

OptimizerSpec readOptimizer(const Fields& f) {
  OptimizerSpec o;
  f.get("kind", o.kind);
  f.get("lr", o.lr);
  f.get("beta1", o.beta1);
  f.get("beta2", o.beta2);
  f.get("eps", o.eps);
  f.get("initialAccumulator", o.initialAccumulator);
  return o;
}

/// Every feature and label reads a stream the plan has.
void checkStreams(const ModelPlan& plan) {
  const auto n = int64_t(plan.streams.size());
  for (const FeatureSpec& f : plan.features)
    if (f.stream < 0 || f.stream > n)
      fail("model plan: feature '{}': field 'stream' is {}, but the plan has {} streams",
           f.name, f.stream, n);
  for (const LabelSpec& l : plan.labels)
    if (l.stream < 0 || l.stream > n)
      fail("model plan: label '{}': field 'stream' is {}, but the plan has {} streams",
           l.name, l.stream, n);
  for (const StreamSpec& st : plan.streams)
    if (st.batchSize < 0)
      fail("model plan: stream '{}': field 'batchSize' must not be negative, got {}",
           st.name, st.batchSize);
}

void readEntries(const Fields& root, ModelPlan& plan) {
  root.forEach("features", [&](const Fields& f) { plan.features.push_back(readFeature(f)); });
  root.forEach("labels", [&](const Fields& f) {
    LabelSpec l;
    f.get("name", l.name, true);
    l.column = l.name;
    f.get("column", l.column);
    f.get("stream", l.stream);
    plan.labels.push_back(std::move(l));
  });
  root.forEach("streams", [&](const Fields& f) {
    StreamSpec st;
    f.get("name", st.name, true);
    f.get("batchSize", st.batchSize);
    plan.streams.push_back(std::move(st));
  });
  root.forEach("tables", [&](const Fields& f) {
    TableSpec t;
    f.get("name", t.name, true);
    f.get("rows", t.rows, true);
    f.get("dim", t.dim, true);
    if (f.has("init"))
      t.init = readInit(f.child("init"), t.init);
    f.get("dynamic", t.dynamic);
    plan.tables.push_back(std::move(t));
  });
  root.forEach("params", [&](const Fields& f) {
    ParamSpec p;
    f.get("name", p.name, true);
    f.get("shape", p.shape, true);
    if (f.has("init"))
      p.init = readInit(f.child("init"), p.init);
    plan.params.push_back(std::move(p));
  });
  root.forEach("metrics", [&](const Fields& f) {
    MetricSpec m;
    f.get("name", m.name, true);
    f.get("kind", m.kind, true);
    f.get("output", m.output, true);
    f.get("label", m.label, true);
    f.get("filterLabel", m.filterLabel);
    f.get("groupColumn", m.groupColumn);
    f.get("targetColumn", m.targetColumn);
    f.get("k", m.k);
    f.get("reduce", m.reduce);  // absent in plans written before it existed
    plan.metrics.push_back(std::move(m));
  });
  root.forEach("states", [&](const Fields& f) {
    StateSpec st;
    f.get("name", st.name, true);
    f.get("kind", st.kind, true);
    f.get("shape", st.shape, true);
    f.get("of", st.of);
    f.get("table", st.table);
    f.get("decay", st.decay);
    if (f.has("init"))
      st.init = readInit(f.child("init"), st.init);
    if (st.kind != "running_stat" && st.kind != "ema")
      fail("model plan: field '{}': expected one of running_stat, ema, got '{}'",
           f.where("kind"), st.kind);
    plan.states.push_back(std::move(st));
  });
}

} // namespace

bool isFrozen(const ModelPlan& plan, const std::string& name) {
  for (const std::string& f : plan.frozen)
    if (name == f || (name.size() > f.size() && name.compare(0, f.size(), f) == 0 &&
                      name[f.size()] == '.'))
      return true;
  return false;
}

int targetFeature(const ModelPlan& plan, const MetricSpec& m) {
  for (size_t f = 0; f < plan.features.size(); ++f)
    if (plan.features[f].kind == FeatureSpec::Kind::Categorical &&
        plan.features[f].column == m.targetColumn)
      return int(f);
  return -1;
}

int64_t streamBatch(const ModelPlan& plan, size_t k) {
  if (k == 0 || k > plan.streams.size() || plan.streams[k - 1].batchSize <= 0)
    return plan.batchSize;
  return plan.streams[k - 1].batchSize;
}

BatchSizes trainBatches(const ModelPlan& plan) {
  if (plan.streams.empty())
    return plan.batchSize;
  std::vector<int64_t> sizes;
  for (size_t k = 0; k <= plan.streams.size(); ++k)
    sizes.push_back(streamBatch(plan, k));
  return BatchSizes(std::move(sizes));
}

ModelPlan rankSlice(const ModelPlan& plan, int ranks) {
  ModelPlan slice = plan;
  if (ranks <= 1)
    return slice;
  for (size_t k = 0; k <= plan.streams.size(); ++k)
    if (streamBatch(plan, k) % ranks != 0)
      fail("batch {} of {} of model '{}' does not split over {} ranks: under mpirun the global "
           "batch must be a multiple of the rank count", streamBatch(plan, k),
           k == 0 ? std::string("the source") : "stream '" + plan.streams[k - 1].name + "'",
           plan.model, ranks);
  slice.batchSize = plan.batchSize / ranks;
  for (StreamSpec& s : slice.streams)
    if (s.batchSize > 0) s.batchSize /= ranks;
  return slice;
}

std::string toJson(const ModelPlan& plan) {
  Json j;
  j["model"] = plan.model;
  j["features"] = Json::array();
  for (const FeatureSpec& f : plan.features)
    j["features"].push_back(featureJson(f));
  j["labels"] = Json::array();
  for (const LabelSpec& l : plan.labels) {
    Json label{{"name", l.name}, {"column", l.column}};
    if (l.stream > 0)
      label["stream"] = l.stream;
    j["labels"].push_back(std::move(label));
  }
  if (!plan.streams.empty()) {
    j["streams"] = Json::array();
    for (const StreamSpec& st : plan.streams)
      j["streams"].push_back({{"name", st.name}, {"batchSize", st.batchSize}});
  }
  j["tables"] = Json::array();
  for (const TableSpec& t : plan.tables)
    j["tables"].push_back({{"name", t.name}, {"rows", t.rows}, {"dim", t.dim},
                           {"init", initJson(t.init)}, {"dynamic", t.dynamic}});
  j["params"] = Json::array();
  for (const ParamSpec& p : plan.params)
    j["params"].push_back({{"name", p.name}, {"shape", p.shape},
                           {"init", initJson(p.init)}});
  j["optimizer"] = optimizerJson(plan.optimizer);
  j["batchSize"] = plan.batchSize;
  j["epochs"] = plan.epochs;
  if (plan.clipNorm > 0)
    j["clipNorm"] = plan.clipNorm;
  j["seed"] = plan.seed;
  j["metrics"] = Json::array();
  for (const MetricSpec& m : plan.metrics)
    j["metrics"].push_back({{"name", m.name}, {"kind", m.kind},
                            {"output", m.output}, {"label", m.label},
                            {"filterLabel", m.filterLabel},
                            {"groupColumn", m.groupColumn},
                            {"targetColumn", m.targetColumn}, {"k", m.k},
                            {"reduce", m.reduce}});
  j["states"] = Json::array();
  for (const StateSpec& st : plan.states)
    j["states"].push_back({{"name", st.name}, {"kind", st.kind}, {"shape", st.shape},
                           {"of", st.of}, {"table", st.table}, {"decay", st.decay},
                           {"init", initJson(st.init)}});
  if (!plan.initFrom.empty())
    j["initFrom"] = plan.initFrom;
  if (!plan.frozen.empty())
    j["frozen"] = plan.frozen;
  if (!plan.columns.empty())  // written only when used, as above
    j["columns"] = plan.columns;
  if (!plan.delimiter.empty())
    j["delimiter"] = plan.delimiter;
  j["trainStep"] = stepJson(plan.trainStep);
  j["evalStep"] = stepJson(plan.evalStep);
  return j.dump(2);
}

ModelPlan planFromJson(const std::string& json) {
  Json j;
  try {
    j = Json::parse(json);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for 1e999
    fail("model plan: malformed JSON: {}", e.what());
  }
  Fields root(j, "");
  ModelPlan plan;
  root.get("model", plan.model, true);
  readEntries(root, plan);
  if (root.has("optimizer"))
    plan.optimizer = readOptimizer(root.child("optimizer"));
  root.get("batchSize", plan.batchSize);
  root.get("epochs", plan.epochs);
  root.get("clipNorm", plan.clipNorm);
  root.get("seed", plan.seed);
  root.get("initFrom", plan.initFrom);
  root.get("frozen", plan.frozen);
  root.get("columns", plan.columns);
  root.get("delimiter", plan.delimiter);
  if (root.has("trainStep"))
    plan.trainStep = readStep(root.child("trainStep"));
  if (root.has("evalStep"))
    plan.evalStep = readStep(root.child("evalStep"));
  if (plan.batchSize <= 0)
    fail("model plan: field 'batchSize': must be positive, got {}", plan.batchSize);
  if (!(plan.clipNorm >= 0) || !std::isfinite(plan.clipNorm))
    fail("model plan: field 'clipNorm': must be a finite number >= 0 (0: no clipping), got {}",
         plan.clipNorm);
  checkStreams(plan);
  if (plan.delimiter != "" && plan.delimiter != "tab" && plan.delimiter != "comma")
    fail("model plan: field 'delimiter': expected tab, comma or nothing, got '{}'",
         plan.delimiter);
  return plan;
}

} // namespace recc::rt
