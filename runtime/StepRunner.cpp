// StepRunner: see StepRunner.h. Binding validates each BufferSpec against the
// model once; run() then only copies and gathers.
#include "runtime/StepRunner.h"
#include "runtime/OutputReady.h"

#include "runtime/Bytes.h"
#include "runtime/Cluster.h"
#include "runtime/Error.h"
#include "runtime/GradientClip.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <bit>
#include <chrono>

namespace recc::rt {

using Role = BufferSpec::Role;

namespace {

const char* roleName(Role role) {
  switch (role) {
  case Role::Feature: return "feature";
  case Role::EmbeddingRows: return "embedding rows";
  case Role::Label: return "label";
  case Role::Param: return "param";
  case Role::Seed: return "seed";
  case Role::State: return "state";
  case Role::Progress: return "progress";
  case Role::BatchSlice: return "batch slice";
  case Role::StateUpdate: return "state update";
  case Role::Output: return "output";
  case Role::Loss: return "loss";
  case Role::LossTerm: return "loss term";
  case Role::Gradient: return "gradient";
  }
  return "?";
}

bool isInput(Role role) {
  return role == Role::Feature || role == Role::EmbeddingRows || role == Role::Label ||
         role == Role::Param || role == Role::Seed || role == Role::State ||
         role == Role::Progress || role == Role::BatchSlice;
}

/// The stream K of a BatchSlice input named "batch_slice.K", or -1.
int sliceStream(const std::string& name) {
  const std::string prefix = "batch_slice.";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size())
    return -1;
  int k = 0;
  for (char c : name.substr(prefix.size())) {
    if (c < '0' || c > '9' || k > 1000)
      return -1;
    k = k * 10 + (c - '0');
  }
  return k;
}

/// The batch dimension of input stream k: -1 for the source, -2 for stream 1, ...
int64_t batchDim(int64_t stream) { return -1 - stream; }

/// The shape of the rows an embedded feature yields: [-1,dim], [-1,L,dim],
/// or [-1,L,W,dim] for a bag of W words per element (the step pools them);
/// the first dimension is the batch of the feature's stream.
Shape rowsShape(const FeatureSpec& f, int64_t dim) {
  const int64_t b = batchDim(f.stream);
  if (f.kind == FeatureSpec::Kind::MultiCategorical && f.words > 0)
    return {b, f.maxLen, f.words, dim};
  if (f.kind == FeatureSpec::Kind::MultiCategorical)
    return {b, f.maxLen, dim};
  return {b, dim};
}

/// The shape of a feature's values (a dense one) or raw ids, as the step reads them.
std::string idsShape(const FeatureSpec& f) {
  const int64_t b = batchDim(f.stream);
  if (f.kind != FeatureSpec::Kind::MultiCategorical)
    return fmt::format("[{}] or [{},1]", b, b);
  if (f.words > 0)
    return fmt::format("[{},{},{}]", b, f.maxLen, f.words);
  return fmt::format("[{},{}]", b, f.maxLen);
}

} // namespace

uint32_t stepSeed(uint64_t planSeed, int64_t step) {
  return static_cast<uint32_t>(combine(planSeed, static_cast<uint64_t>(step)) & 0xFFFFFF);
}

StepRunner::StepRunner(const StepSpec& spec, ModelState& state, StepFunction& fn,
                       const BatchSizes& capacity, std::string what)
    : State(state), Fn(fn), Capacity(capacity),
      NumStreams(static_cast<int>(state.plan().streams.size()) + 1), What(std::move(what)),
      BatchIds(state.plan().features.size()), LastBatch(NumStreams, 0) {
  for (size_t i = 0; i < spec.buffers.size(); ++i)
    bind(spec.buffers[i], i);
  for (Binding& b : Bindings) {
    float* in = external(b);
    Pointers.push_back(in ? in : b.storage.data());
  }
  if (State.shardedTables)
    Remote = std::make_unique<FetchedRows>();
  if (Cluster::distributed() && hasGradients()) {
    Sums = std::make_unique<BackgroundSums>();
    Notified.assign(Bindings.size(), 0);
  }
}

void StepRunner::fetchRows(const std::function<std::span<const int64_t>(int feature)>& idsOf) {
  std::vector<std::vector<int64_t>> ids(State.tables.size());
  for (const Binding& b : Bindings)
    if (b.role == Role::EmbeddingRows) {
      std::span<const int64_t> of = idsOf(b.feature);
      ids[size_t(b.table)].insert(ids[size_t(b.table)].end(), of.begin(), of.end());
    }
  Remote->fetch(State, ids);
}

void StepRunner::joinFetch() {
  if (Remote)
    fetchRows([](int) { return std::span<const int64_t>(); });
}

float* StepRunner::external(const Binding& b) {
  if (b.param >= 0)
    return b.role == Role::Param ? State.params.value(b.param).data()
                                 : State.params.grad(b.param).data();
  // A whole state is read in place; its update goes to a buffer of its own
  // (copied after the step), so inputs and outputs never alias.
  if (b.role == Role::State && b.ids.empty())
    return State.states.value(b.state).data();
  return nullptr;
}

void StepRunner::bind(const BufferSpec& buffer, size_t index) {
  Binding b{buffer.role, buffer.name, buffer.shape, false, 0, 1, -1, -1, -1, -1, -1,
            buffer.ids, Tensor()};
  auto bad = [&](const std::string& why) {
    fail("{} buffer {} '{}' ({}): {}", What, index, buffer.name, roleName(buffer.role),
         why);
  };
  // The first dimension may be a stream's batch: -1 (the source), -2 (stream 1), ...
  for (size_t d = 0; d < b.shape.size(); ++d)
    if (b.shape[d] < 0 ? d != 0 || b.shape[d] < batchDim(NumStreams - 1) : b.shape[d] == 0)
      bad(fmt::format("invalid shape {} (only the first dimension may be a batch: -1, or "
                      "-1-k for stream k of the model's {} other streams)",
                      shapeString(b.shape), NumStreams - 1));
  b.batched = !b.shape.empty() && b.shape[0] < 0;
  b.stream = b.batched ? static_cast<int>(-1 - b.shape[0]) : 0;
  b.perRow = 1;
  for (size_t d = b.batched ? 1 : 0; d < b.shape.size(); ++d)
    b.perRow *= b.shape[d];
  if ((b.role == Role::Loss || b.role == Role::LossTerm) && (b.batched || b.perRow != 1))
    bad(fmt::format("shape {} is not a scalar", shapeString(b.shape)));
  try {
    if (b.role == Role::State)
      bindState(b);
    else if (isInput(b.role))
      bindInput(b);
    else if (b.role == Role::Gradient)
      bindGradient(b);
    else if (b.role == Role::StateUpdate)
      bindStateUpdate(b);
  } catch (const RuntimeError& e) {
    bad(e.what());
  }
  if (b.role == Role::Loss)
    LossBuffer = static_cast<int>(Bindings.size());
  if (!external(b))
    b.storage = Tensor({b.batched ? Capacity.stream(b.stream) * b.perRow : b.perRow});
  Bindings.push_back(std::move(b));
}

void StepRunner::bindInput(Binding& b) {
  const ModelPlan& plan = State.plan();
  auto expect = [&](bool ok, const std::string& want) {
    if (!ok)
      fail("shape {} but expected {}", shapeString(b.shape), want);
  };
  if (b.role == Role::Param) {
    b.param = State.params.indexOf(b.name);
    if (b.param < 0)
      fail("no parameter of that name in the model");
    expect(b.shape == State.params.value(b.param).shape(),
           shapeString(State.params.value(b.param).shape()) + " (the model's parameter)");
  } else if (b.role == Role::Seed || b.role == Role::Progress) {
    expect(!b.batched && b.perRow == 1, "a scalar");
  } else if (b.role == Role::BatchSlice) {
    expect(b.shape == Shape{2}, "[2]");
    b.stream = b.name == "batch_slice" ? 0 : sliceStream(b.name);
    if (b.stream < 0 || b.stream >= NumStreams)
      fail("names no input stream of the model (which reads {})", NumStreams);
  } else if (b.role == Role::Label) {
    b.label = State.labelIndex(b.name);
    if (b.label < 0)
      fail("no label of that name in the model");
    checkStream(b, State.plan().labels[b.label].stream, "label");
    expect(b.batched && b.perRow == 1, "[-1] or [-1,1]");
  } else {
    b.feature = State.featureIndex(b.name);
    if (b.feature < 0)
      fail("no feature of that name in the model");
    const FeatureSpec& f = plan.features[b.feature];
    bool dense = f.kind == FeatureSpec::Kind::Dense;
    if (b.role == Role::EmbeddingRows) {
      if (dense)
        fail("dense feature has no embedding table");
      b.table = State.tableIndex(f.table);
      Shape want = rowsShape(f, State.tables[b.table].dim());
      expect(b.shape == want, shapeString(want));
    } else {
      checkStream(b, f.stream, "feature");
      expect(b.batched && b.perRow == (dense ? 1 : idsPerRow(f)), idsShape(f));
    }
    if (!dense)
      BatchIds[b.feature].resize(Capacity.stream(f.stream) * idsPerRow(f));
  }
}

void StepRunner::bindState(Binding& b) {
  const StateStore& states = State.states;
  if (b.ids.empty()) {
    b.state = states.indexOf(b.name);
    if (b.state < 0)
      fail("no model state of that name in the plan");
    const StateSpec& s = states.spec(b.state);
    if (s.table)
      fail("state '{}' is an EMA shadow table; a step reads its rows for the ids of a feature",
           s.name);
    if (b.shape != s.shape)
      fail("shape {} but the state is {}", shapeString(b.shape), shapeString(s.shape));
    return;
  }
  b.feature = State.featureIndex(b.ids);
  if (b.feature < 0 || State.plan().features[b.feature].kind == FeatureSpec::Kind::Dense)
    fail("reads shadow rows for '{}', which is not an id feature of the model", b.ids);
  const FeatureSpec& f = State.plan().features[b.feature];
  b.table = State.tableIndex(f.table);
  b.state = states.shadowOfTable(f.table);
  if (b.state < 0)
    fail("reads the EMA shadow of table '{}', which the plan's states do not list", f.table);
  Shape want = rowsShape(f, State.tables[b.table].dim());
  if (b.shape != want)
    fail("shape {} but the feature's shadow rows are {}", shapeString(b.shape),
         shapeString(want));
  BatchIds[b.feature].resize(Capacity.stream(f.stream) * idsPerRow(f));
}

void StepRunner::bindStateUpdate(Binding& b) {
  b.state = State.states.indexOf(b.name);
  if (b.state < 0)
    fail("updates no model state of that name in the plan");
  const StateSpec& s = State.states.spec(b.state);
  if (s.kind != "running_stat")
    fail("updates state '{}' of kind '{}'; only running statistics are updated by a step",
         s.name, s.kind);
  if (b.shape != s.shape)
    fail("shape {} but the state is {}", shapeString(b.shape), shapeString(s.shape));
}

void StepRunner::bindGradient(Binding& b) {
  b.param = State.params.indexOf(b.name);
  if (b.param >= 0) {
    const Shape& want = State.params.value(b.param).shape();
    if (b.shape != want)
      fail("shape {} but the parameter is {}", shapeString(b.shape), shapeString(want));
    return;
  }
  b.feature = State.featureIndex(b.name);
  if (b.feature < 0 ||
      State.plan().features[b.feature].kind == FeatureSpec::Kind::Dense)
    fail("names neither a parameter nor an embedded feature");
  const FeatureSpec& f = State.plan().features[b.feature];
  b.table = State.tableIndex(f.table);
  Shape want = rowsShape(f, State.tables[b.table].dim());
  if (b.shape != want)
    fail("shape {} but the feature's rows are {}", shapeString(b.shape),
         shapeString(want));
  BatchIds[b.feature].resize(Capacity.stream(f.stream) * idsPerRow(f));
}

int StepRunner::featureStream(int f) const {
  return static_cast<int>(State.plan().features[f].stream);
}

void StepRunner::checkStream(const Binding& b, int stream, const char* what) const {
  if (b.batched && b.stream != stream)
    fail("shape {} is batched by stream {}, but the {} is read from stream {}",
         shapeString(b.shape), b.stream, what, stream);
}

void StepRunner::gatherIds(std::span<const StreamRows> streams) {
  for (size_t f = 0; f < BatchIds.size(); ++f) {
    if (BatchIds[f].empty())
      continue;
    const DataSet& data = *streams[featureStream(static_cast<int>(f))].data;
    std::span<const int64_t> rows = streams[featureStream(static_cast<int>(f))].rows;
    const int64_t w = data.width(static_cast<int>(f));
    std::span<const int64_t> ids = data.ids(static_cast<int>(f));
    int64_t* out = BatchIds[f].data();
    for (size_t i = 0; i < rows.size(); ++i)
      std::memcpy(out + i * w, ids.data() + rows[i] * w, w * sizeof(int64_t));
  }
}

void StepRunner::fillInput(Binding& b, const StreamRows& in, uint32_t seed) {
  const DataSet& data = *in.data;
  std::span<const int64_t> rows = in.rows;
  float* out = b.storage.data();
  const size_t n = rows.size();
  if (b.role == Role::Seed) {
    out[0] = static_cast<float>(seed);
  } else if (b.role == Role::Progress) {
    out[0] = ProgressValue;
  } else if (b.role == Role::BatchSlice) {
    out[0] = static_cast<float>(in.firstRow);
    out[1] = static_cast<float>(in.globalRows > 0 ? in.globalRows : int64_t(n));
  } else if (b.role == Role::State) {
    std::span<const int64_t> ids(BatchIds[b.feature].data(), n * data.width(b.feature));
    State.states.rowsAt(b.state, State.tables[b.table], ids, State.step, out);
  } else if (b.role == Role::Label) {
    if (!data.hasLabel(b.label)) {
      std::fill_n(out, n, 0.0f);
      return;
    }
    std::span<const float> y = data.label(b.label);
    for (size_t i = 0; i < n; ++i)
      out[i] = y[rows[i]];
  } else if (b.role == Role::EmbeddingRows) {
    std::span<const int64_t> ids(BatchIds[b.feature].data(), n * data.width(b.feature));
    if (Remote)
      Remote->gather(b.table, ids, out);
    else
      State.tables[b.table].gather(ids, out);
  } else if (b.role == Role::Feature) {
    const FeatureSpec& f = State.plan().features[b.feature];
    if (f.kind == FeatureSpec::Kind::Dense) {
      transformColumn(f, State.stats[b.feature], data.dense(b.feature), rows, out);
    } else {
      const std::vector<int64_t>& ids = BatchIds[b.feature];
      for (size_t i = 0; i < n * b.perRow; ++i)
        out[i] = static_cast<float>(ids[i]);
    }
  }
}

void StepRunner::run(const DataSet& data, std::span<const int64_t> rows, uint32_t seed) {
  std::vector<StreamRows> all(static_cast<size_t>(NumStreams), StreamRows{&data, rows});
  run(all, seed);
}

void StepRunner::run(std::span<const StreamRows> streams, uint32_t seed) {
  if (streams.size() != static_cast<size_t>(NumStreams))
    fail("{}: {} input streams given, the model reads {}", What, streams.size(), NumStreams);
  const BatchSizes fixed = Fn.fixedBatches();
  std::vector<int64_t> sizes;
  bool uniform = true;
  for (int k = 0; k < NumStreams; ++k) {
    const int64_t n = static_cast<int64_t>(streams[k].rows.size());
    if (n > Capacity.stream(k) || (Fn.fixedBatch() > 0 && n != fixed.stream(k)))
      fail("{}: batch of {} rows of stream {} does not fit the step (capacity {}, fixed "
           "batch {})", What, n, k, Capacity.stream(k), Fn.fixedBatch() > 0 ? fixed.str() : "none");
    uniform = uniform && n == static_cast<int64_t>(streams[0].rows.size());
    sizes.push_back(n);
    LastBatch[k] = n;
  }
  gatherIds(streams);
  if (Remote && !std::exchange(ReuseFetched, false))  // a collective call
    fetchRows([&](int f) {
      return std::span<const int64_t>(BatchIds[f].data(),
                                      LastBatch[featureStream(f)] * idsPerRow(State.plan().features[f]));
    });
  // Gradient buffers are not cleared: autodiff binds every trainable leaf's
  // gradient (a zero constant when no path reaches the loss), so each step
  // writes all of them, and clearing 8 MB per ESM² step would only cost time.
  for (Binding& b : Bindings)
    if (isInput(b.role) && !external(b))
      fillInput(b, streams[b.stream], seed);
  if (Sums && !DenseParts.empty()) {  // a run without applyGradients: its sums are dropped
    Sums->wait();
    DenseParts.clear();
    std::fill(Notified.begin(), Notified.end(), 0);
  }
  // The dense gradients' sums start as the step hands them over.
  std::optional<OutputReadyReceiver> receiver;
  if (Sums && Cluster::overlaps())
    receiver.emplace([this](int64_t buffer) { gradientReady(buffer); });
  Fn.run(uniform ? BatchSizes(sizes[0]) : BatchSizes(sizes), Pointers.data());
}

float StepRunner::loss() const {
  return hasLoss() ? Bindings[LossBuffer].storage[0]
                   : std::numeric_limits<float>::quiet_NaN();
}

std::vector<std::pair<std::string, float>> StepRunner::lossTerms() const {
  std::vector<std::pair<std::string, float>> terms;
  for (const Binding& b : Bindings)
    if (b.role == Role::LossTerm)
      terms.emplace_back(b.name, b.storage[0]);
  return terms;
}

std::vector<StepRunner::Output> StepRunner::outputs() const {
  std::vector<Output> out;
  for (const Binding& b : Bindings)
    if (b.role == Role::Output)
      out.push_back({b.name, b.storage.data(), b.perRow, b.batched, b.stream});
  return out;
}

bool StepRunner::hasGradients() const {
  for (const Binding& b : Bindings)
    if (b.role == Role::Gradient)
      return true;
  return false;
}

namespace {
/// Index of the first NaN or infinity of `n` floats, or -1. The exponent
/// test is branch-free over blocks so that it vectorizes: the check reads
/// the outputs once, at memory speed.
int64_t firstNonFinite(const float* x, int64_t n) {
  constexpr int64_t kBlock = 256;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    uint32_t bad = 0;
    for (int64_t i = start; i < end; ++i)
      bad |= uint32_t((std::bit_cast<uint32_t>(x[i]) & 0x7f800000u) == 0x7f800000u);
    if (bad)
      for (int64_t i = start; i < end; ++i)
        if (!std::isfinite(x[i]))
          return i;
  }
  return -1;
}
} // namespace

int64_t StepRunner::elementsOf(const Binding& b) const {
  return b.batched ? LastBatch[b.stream] * b.perRow : b.perRow;
}

std::string StepRunner::firstNonFiniteOutput() const {
  for (size_t k = 0; k < Bindings.size(); ++k) {
    const Binding& b = Bindings[k];
    if (isInput(b.role))
      continue;
    const int64_t at = firstNonFinite(Pointers[k], elementsOf(b));
    if (at < 0)
      continue;
    Shape shape = b.shape;
    if (b.batched)
      shape[0] = LastBatch[b.stream];
    return fmt::format("{} '{}' {} is {} at flat element {}", roleName(b.role), b.name,
                       shapeString(shape), Pointers[k][at], at);
  }
  return "";
}

StepRunner::TableGradients StepRunner::rowGradients() const {
  TableGradients sparse;
  if (Gathered) {
    for (size_t k = 0; k < GatheredIds.size(); ++k)
      sparse[GatheredTables[k]].push_back({GatheredIds[k], GatheredGrads[k].data()});
    return sparse;
  }
  for (const Binding& b : Bindings) {
    if (b.role != Role::Gradient || b.param >= 0)
      continue;
    const size_t count =
        LastBatch[featureStream(b.feature)] * idsPerRow(State.plan().features[b.feature]);
    sparse[b.table].push_back({{BatchIds[b.feature].data(), count}, b.storage.data()});
  }
  return sparse;
}

void StepRunner::clipGradients(const TableRuns& runs, double maxNorm) {
  std::vector<std::span<const float>> dense;
  for (const Binding& b : Bindings)
    if (b.role == Role::Gradient && b.param >= 0)
      dense.push_back({State.params.grad(b.param).data(), size_t(b.perRow)});
  std::vector<TableGradient> tables;
  for (const auto& [table, tableRuns] : runs)
    tables.push_back({&tableRuns, State.tables[table].dim()});
  const SquaredNorms norms = squaredNorms(dense, tables);
  // Sharded tables: each rank holds the gradients of the rows it owns.
  LastGradientNorm = std::sqrt(
      norms.dense + (State.shardedTables ? sumOverRanks(norms.tables) : norms.tables));
  const double factor = clipFactor(LastGradientNorm, maxNorm);
  ClipStats.steps += 1;
  ClipStats.sum += LastGradientNorm;
  ClipStats.max = std::max(ClipStats.max, LastGradientNorm);
  if (factor == 1.0)
    return;
  ClipStats.clipped += 1;
  std::vector<std::span<float>> grads;
  for (Binding& b : Bindings) {
    if (b.role != Role::Gradient || (Gathered && b.param < 0))
      continue;
    float* g = b.param >= 0 ? State.params.grad(b.param).data() : b.storage.data();
    grads.push_back({g, size_t(elementsOf(b))});
  }
  for (std::vector<float>& g : GatheredGrads)  // empty unless Gathered
    grads.push_back(g);
  scaleInPlace(grads, float(factor));
}

std::string StepRunner::clipSummary() const {
  if (ClipStats.steps == 0)
    return "";
  return fmt::format("gradient norm mean {:.4g}, max {:.4g}, clipped in {} of {} steps",
                     ClipStats.sum / double(ClipStats.steps), ClipStats.max, ClipStats.clipped,
                     ClipStats.steps);
}

std::string StepRunner::overlapSummary() const {
  if (DenseStats.steps == 0)
    return "";
  const double ms = 1e3 / double(DenseStats.steps);
  if (!Cluster::overlaps())
    return fmt::format("dense gradients summed in {:.1f} ms per step, before the sparse work",
                       DenseStats.seconds * ms);
  return fmt::format("dense gradients summed in {:.1f} ms per step beside the backward pass "
                     "and the sparse work, {:.1f} ms waited for",
                     DenseStats.seconds * ms, DenseStats.waited * ms);
}

void StepRunner::gradientReady(int64_t buffer) {
  if (buffer < 0 || size_t(buffer) >= Bindings.size())
    return;
  const Binding& b = Bindings[size_t(buffer)];
  if (b.role != Role::Gradient || b.param < 0 || Notified[size_t(buffer)])
    return;
  Notified[size_t(buffer)] = 1;
  std::span<float> grad(State.params.grad(b.param).data(), size_t(b.perRow));
  DenseParts.push_back(grad);
  Sums->add(grad);
}

void StepRunner::startDenseAverage() {
  // What the step did not hand over as it ran (recc_output_ready), as one
  // vector: dense gradients, the loss and its terms, the state updates.
  DensePacked.clear();
  PackedParts.clear();
  for (size_t i = 0; i < Bindings.size(); ++i) {
    Binding& b = Bindings[i];
    const bool dense = b.role == Role::Gradient && b.param >= 0;
    if ((dense && !Notified[i]) || b.role == Role::Loss || b.role == Role::LossTerm ||
        b.role == Role::StateUpdate) {
      float* at = dense ? State.params.grad(b.param).data() : b.storage.data();
      PackedParts.emplace_back(at, size_t(b.perRow));
      DensePacked.insert(DensePacked.end(), at, at + b.perRow);
    }
  }
  Sums->add(DensePacked);
}

void StepRunner::finishDenseAverage() {
  const auto start = std::chrono::steady_clock::now();
  DenseStats.seconds += Sums->wait();
  DenseStats.waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++DenseStats.steps;
  // Each rank's step averaged over its B/N rows; the batch's mean is the
  // mean of the ranks' means.
  const float inverse = 1.0f / float(Cluster::size());
  for (std::span<float> part : DenseParts)
    for (float& v : part) v *= inverse;
  size_t at = 0;
  for (std::span<float> part : PackedParts)
    for (float& v : part) v = DensePacked[at++] * inverse;
  DenseParts.clear();
  std::fill(Notified.begin(), Notified.end(), 0);
}

void StepRunner::averageRowGradients() {
  // Per table: this rank's gradients summed per distinct id (SAR-Net's
  // behaviour rows repeat items), scaled by 1/N where they arrive.
  std::map<int, SummedRows> sums;
  for (const auto& [table, sources] : rowGradients())
    sums[table] = sumRowGradients(sources, State.tables[table].rows(), State.tables[table].dim());
  const float inverse = 1.0f / float(Cluster::size());
  if (State.shardedTables) {  // to the rows' owners only
    OwnedGradients owned = sendToOwners(State, sums, inverse);
    GatheredTables = std::move(owned.tables);
    GatheredIds = std::move(owned.ids);
    GatheredGrads = std::move(owned.grads);
    Gathered = true;
    return;
  }
  // Replicated tables: every rank's sums to every rank.
  std::string mine;
  for (const auto& [table, sum] : sums) {
    putCounted(mine, std::span<const int64_t>(sum.ids));
    putValues(mine, sum.grads.data(), sum.grads.size());
  }
  GatheredIds.clear();
  GatheredGrads.clear();
  GatheredTables.clear();
  for (const std::string& rank : Cluster::allGather(mine)) {
    ByteReader in(rank, "row gradients");
    for (const auto& [table, sum] : sums) {
      GatheredIds.emplace_back();
      in.appendCounted(GatheredIds.back());
      GatheredGrads.emplace_back(GatheredIds.back().size() * size_t(State.tables[table].dim()));
      in.read(GatheredGrads.back().data(), GatheredGrads.back().size());
      for (float& g : GatheredGrads.back()) g *= inverse;
      GatheredTables.push_back(table);
    }
  }
  Gathered = true;
}

void StepRunner::applyGradients() {
  Gathered = false;
  const int64_t t = State.step + 1;
  const bool clip = State.plan().clipNorm > 0;
  // Under mpirun the dense sums run on a thread of their own (BackgroundSums):
  // the gradients the step handed over as it ran are being summed already,
  // and the rest is, while this thread exchanges the row gradients and,
  // unless clip_norm needs every gradient first, applies the sparse update.
  // Tables and dense parameters are disjoint, so the order changes nothing.
  const bool distributed = Sums != nullptr;
  if (distributed) {
    startDenseAverage();
    averageRowGradients();
  }
  // Each table's ids are sorted into runs once, a table per chunk on the
  // team's threads. Clipping scales the gradients in place, so the runs stay
  // valid.
  const TableGradients grads = rowGradients();
  std::vector<int> tables;
  for (const auto& [table, sources] : grads)
    tables.push_back(table);
  std::vector<EmbeddingTable::RowRuns> sorted(tables.size());
  parallelChunks(int64_t(tables.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      sorted[k] = State.tables[tables[k]].sortRows(grads.at(tables[k]));
  });
  TableRuns runs;
  for (size_t k = 0; k < tables.size(); ++k)
    runs[tables[k]] = std::move(sorted[k]);
  if (!clip)
    applyTableGradients(runs, t);
  if (distributed)
    finishDenseAverage();
  if (clip) {
    clipGradients(runs, State.plan().clipNorm);
    applyTableGradients(runs, t);
  }
  for (const Binding& b : Bindings)
    if (b.role == Role::StateUpdate)
      std::memcpy(State.states.value(b.state).data(), b.storage.data(),
                  b.perRow * sizeof(float));
  std::vector<int> dense;
  for (const Binding& b : Bindings)
    if (b.role == Role::Gradient && b.param >= 0)
      dense.push_back(b.param);
  State.denseOptimizer.step(State.params, dense, t);
  State.states.afterDenseUpdate(State.params);
  State.step = t;
}

void StepRunner::applyTableGradients(const TableRuns& runs, int64_t t) {
  for (const auto& [table, tableRuns] : runs) {
    EmbeddingTable& tb = State.tables[table];
    // The runs' ids are the distinct rows this update touches, which the
    // table's EMA shadow (if any) catches up before and blends after.
    State.states.beforeRowUpdate(tb, tableRuns.ids, t);
    tb.applyGradients(tableRuns, State.plan().optimizer, t);
    State.states.afterRowUpdate(tb, tableRuns.ids, t);
  }
}

} // namespace recc::rt
