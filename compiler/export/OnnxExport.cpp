// OnnxExport: see OnnxExport.h. One pass over the eval graph's live nodes in
// order: leaves become graph inputs (features) or initializers (weights),
// every other node maps through OnnxOps.
#include "compiler/export/OnnxExport.h"

#include "compiler/export/OnnxOps.h"
#include "compiler/export/OnnxWriter.h"
#include "runtime/AtomicFile.h"
#include "runtime/Error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace recc::onnxexp {

namespace {

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;

using rt::FeatureSpec;

/// The nodes the model's outputs depend on.
std::vector<bool> liveNodes(const Graph& g) {
  std::vector<bool> live(g.size(), false);
  for (const Binding& b : g.outputs())
    if (b.role == ValueRole::Output) live[b.node] = true;
  for (size_t i = g.size(); i-- > 0;)
    if (live[i])
      for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) live[in] = true;
  return live;
}

/// The graph input shape of feature `f`: ids [N], [N,L], [N,L,W]; dense [N].
std::vector<int64_t> inputDims(const FeatureSpec& f) {
  if (f.kind != FeatureSpec::Kind::MultiCategorical) return {-1};
  if (f.words > 0) return {-1, f.maxLen, f.words};
  return {-1, f.maxLen};
}

class Exporter {
public:
  Exporter(const CompiledModel& m, const Graph& g, const rt::ModelState& s, OnnxWriter& w)
      : M(m), S(s), G(g), W(w), Live(liveNodes(G)) {
    for (const Binding& b : G.inputs()) Bound[b.node] = b;
  }

  /// Bytes of the weights the serving graph reads, and the features it reads.
  int64_t survey();
  /// Emits the whole graph; returns the metadata describing its inputs.
  nlohmann::json emit();

private:
  std::string leaf(const Node& n);
  std::string featureValue(const Node& n, int f);
  std::string denseTransform(int f, const std::string& x);
  std::string embeddingRows(const Node& n, int f);
  std::string stateValue(const Node& n, const Binding& b);
  std::string gatherRows(const std::string& weights, const std::string& ids);
  std::string tableWeights(int t);
  int featureOf(const Node& n, const std::string& name) const;
  int stateOf(const Node& n, const Binding& b) const;
  const rt::Tensor& param(const std::string& name) const;
  const Binding& binding(const Node& n) const;

  const CompiledModel& M;
  const rt::ModelState& S;
  const Graph& G;
  OnnxWriter& W;
  std::vector<bool> Live;
  std::map<NodeId, Binding> Bound;
  std::set<int> Features;               // plan features the serving graph reads
  std::map<std::string, std::string> Weights;  // initializers written, by key
};

const Binding& Exporter::binding(const Node& n) const {
  auto it = Bound.find(n.id);
  if (it == Bound.end())
    throw ExportError(fmt::format("{}: input %{} is bound to no graph input", n.loc.str(), n.id));
  return it->second;
}

int Exporter::featureOf(const Node& n, const std::string& name) const {
  int f = S.featureIndex(name);
  if (f < 0)
    throw ExportError(fmt::format("{}: input '{}' is no feature of model '{}'", n.loc.str(), name,
                                  M.plan.model));
  return f;
}

/// The StateStore entry a State input reads: by name, or for rows of an EMA
/// shadow table (`ids`), the shadow of the table that id feature reads.
int Exporter::stateOf(const Node& n, const Binding& b) const {
  std::string ids = n.attrs.getString("ids");
  int i = ids.empty() ? S.states.indexOf(b.name)
                      : S.states.shadowOfTable(M.plan.features[featureOf(n, ids)].table);
  if (i < 0)
    throw ExportError(fmt::format("{}: state '{}' is not in model '{}'", n.loc.str(), b.name,
                                  M.plan.model));
  return i;
}

const rt::Tensor& Exporter::param(const std::string& name) const {
  int i = S.params.indexOf(name);
  if (i < 0) rt::fail("parameter '{}' is not in the checkpoint's model '{}'", name, M.plan.model);
  return S.params.value(i);
}

int64_t Exporter::survey() {
  int64_t bytes = 0;
  std::set<std::string> tables;
  for (const Node& n : G.nodes()) {
    if (!Live[n.id] || (n.kind != OpKind::Input && n.kind != OpKind::Param)) continue;
    const Binding& b = binding(n);
    switch (b.role) {
    case ValueRole::Feature: Features.insert(featureOf(n, b.name)); break;
    case ValueRole::EmbeddingRows: {
      int f = featureOf(n, b.name);
      Features.insert(f);
      const rt::EmbeddingTable& t = S.tables[S.tableIndex(M.plan.features[f].table)];
      if (tables.insert(t.name()).second) bytes += t.rows() * t.dim() * 4;
      break;
    }
    case ValueRole::State: {
      std::string ids = n.attrs.getString("ids");
      if (!ids.empty()) Features.insert(featureOf(n, ids));
      int i = stateOf(n, b);
      if (S.states.spec(i).table) {  // an EMA shadow: a whole table
        const rt::EmbeddingTable& t = S.tables[S.states.source(i)];
        bytes += t.rows() * t.dim() * 4;
      } else {
        bytes += S.states.value(i).numel() * 4;
      }
      break;
    }
    case ValueRole::Param: bytes += param(b.name).numel() * 4; break;
    default: break;
    }
  }
  return bytes;
}

std::string Exporter::denseTransform(int f, const std::string& x) {
  const FeatureSpec& spec = M.plan.features[f];
  if (spec.transform == "log1p") return W.op("Log", {W.op("Add", {x, W.floatScalar(1)})});
  if (!rt::needsStats(spec)) return x;
  const rt::FeatureStats& st = S.stats[f];
  if (!st.ready)
    rt::fail("feature '{}': the checkpoint holds no statistics for its {} transform", spec.name,
             spec.transform);
  std::string z = W.op("Div", {W.op("Sub", {x, W.floatScalar(static_cast<float>(st.mean))}),
                              W.floatScalar(static_cast<float>(std::max(st.stddev, 1e-6)))});
  return spec.transform == "zscore" ? z : W.op("Tanh", {z});
}

/// A Feature buffer: a dense feature transformed, or ids as floats.
std::string Exporter::featureValue(const Node& n, int f) {
  const FeatureSpec& spec = M.plan.features[f];
  std::string x = spec.name;
  if (spec.kind == FeatureSpec::Kind::Dense) x = denseTransform(f, x);
  else x = W.op("Cast", {x}, {attrInt("to", kFloat)});
  return W.op("Reshape", {x, W.ints(reshapeDims(n.shape))});
}

/// Rows of `weights` for int64 `ids` of any shape; id -1 (padding) gives a
/// zero row, as the runtime's gather does (ONNX's Gather would read the
/// last row).
std::string Exporter::gatherRows(const std::string& weights, const std::string& ids) {
  std::string index = W.op("Max", {ids, W.int64Scalar(0)});
  std::string rows = W.op("Gather", {weights, index}, {attrInt("axis", 0)});
  std::string keep = W.op("Cast", {W.op("GreaterOrEqual", {ids, W.int64Scalar(0)})},
                          {attrInt("to", kFloat)});
  return W.op("Mul", {rows, W.op("Unsqueeze", {keep, W.ints({-1}, "axes")})});
}

std::string Exporter::tableWeights(int t) {
  const rt::EmbeddingTable& table = S.tables[t];
  std::string key = "table:" + table.name();
  if (Weights.count(key)) return Weights[key];
  if (table.isDynamic())
    rt::fail("table '{}' is dynamic (rows allocated when first touched, {} rows declared); "
             "recc export writes dense tables only (docs/export.md)", table.name(), table.rows());
  W.weight(key, {table.rows(), table.dim()}, table.weights().data());
  return Weights[key] = key;
}

std::string Exporter::embeddingRows(const Node& n, int f) {
  const FeatureSpec& spec = M.plan.features[f];
  int t = S.tableIndex(spec.table);
  std::string rows = gatherRows(tableWeights(t), spec.name);
  return W.op("Reshape", {rows, W.ints(reshapeDims(n.shape))});
}

/// Model state, folded in as constants: running statistics whole, an EMA
/// shadow table gathered by its id feature.
std::string Exporter::stateValue(const Node& n, const Binding& b) {
  const int i = stateOf(n, b);
  const std::string key = "state:" + S.states.spec(i).name;
  std::string ids = n.attrs.getString("ids");
  if (ids.empty()) {
    if (!Weights.count(key)) {
      const rt::Tensor& v = S.states.value(i);
      W.weight(key, v.shape(), v.data());
      Weights[key] = key;
    }
    return W.op("Reshape", {key, W.ints(reshapeDims(n.shape))});
  }
  if (!Weights.count(key)) {
    const rt::EmbeddingTable& table = S.tables[S.states.source(i)];
    if (table.isDynamic())
      rt::fail("state '{}' shadows dynamic table '{}'; recc export writes dense tables only",
               b.name, table.name());
    std::vector<float> shadow = S.states.tableAt(i, table, S.step);
    W.weight(key, {table.rows(), table.dim()}, shadow.data());
    Weights[key] = key;
  }
  std::string rows = gatherRows(key, M.plan.features[featureOf(n, ids)].name);
  return W.op("Reshape", {rows, W.ints(reshapeDims(n.shape))});
}

std::string Exporter::leaf(const Node& n) {
  if (n.kind == OpKind::Constant) {
    if (n.shape.hasBatch())
      throw ExportError(fmt::format("{}: a constant of batch shape {} has no ONNX mapping in "
                                    "recc export", n.loc.str(), n.shape.str()));
    int64_t count = 1;
    for (int64_t d : n.shape.dims) count *= d;
    std::vector<float> v(static_cast<size_t>(count),
                         static_cast<float>(n.attrs.getFloat("value")));
    return W.floats(n.shape.dims, v, "constant");
  }
  const Binding& b = binding(n);
  switch (b.role) {
  case ValueRole::Feature: return featureValue(n, featureOf(n, b.name));
  case ValueRole::EmbeddingRows: return embeddingRows(n, featureOf(n, b.name));
  case ValueRole::Param: {
    const std::string key = "param:" + b.name;
    if (!Weights.count(key)) {
      const rt::Tensor& v = param(b.name);
      W.weight(key, v.shape(), v.data());
      Weights[key] = key;
    }
    return key;
  }
  case ValueRole::State: return stateValue(n, b);
  // Evaluation feeds seed 0 (no op of an eval graph draws from it) and
  // progress 1 (training done).
  case ValueRole::Seed: return W.floatScalar(0);
  case ValueRole::Progress: return W.floatScalar(1);
  default:
    throw ExportError(fmt::format("{}: the outputs read {} '{}', which serving has no value for",
                                  n.loc.str(), roleName(b.role), b.name));
  }
}

nlohmann::json Exporter::emit() {
  nlohmann::json inputs = nlohmann::json::array();
  for (int f : Features) {
    const FeatureSpec& spec = M.plan.features[f];
    const bool dense = spec.kind == FeatureSpec::Kind::Dense;
    W.input(spec.name, dense ? kFloat : kInt64, inputDims(spec));
    nlohmann::json j{{"name", spec.name},
                     {"column", spec.column},
                     {"kind", dense ? "dense"
                              : spec.kind == FeatureSpec::Kind::Categorical ? "id" : "ids"},
                     {"shape", inputDims(spec)}};
    if (dense) j["transform"] = spec.transform.empty() ? "none" : spec.transform;
    else {
      j["vocab"] = spec.vocab;
      j["lookup"] = spec.lookup.empty() ? "integer" : spec.lookup;
    }
    if (spec.hasNa) j["na"] = spec.na;
    inputs.push_back(j);
  }
  std::vector<std::string> value(G.size());
  for (const Node& n : G.nodes()) {
    if (!Live[n.id]) continue;
    if (n.kind == OpKind::Input || n.kind == OpKind::Param || n.kind == OpKind::Constant) {
      value[n.id] = leaf(n);
      continue;
    }
    std::vector<std::string> in;
    for (NodeId i : n.inputs) in.push_back(value[i]);
    value[n.id] = emitOp(W, G, n, in);
  }
  for (const Binding& b : G.outputs()) {
    if (b.role != ValueRole::Output) continue;
    W.opInto(b.name, "Identity", {value[b.node]});
    W.output(b.name, kFloat, G.node(b.node).shape.dims);
  }
  return inputs;
}

void writeFile(const std::string& path, const std::string& bytes) {
  rt::AtomicFileWriter out(path);
  out.write(bytes);
  out.commit();
}

} // namespace

void checkExportable(const CompiledModel& model, const Graph& g) {
  std::vector<bool> live = liveNodes(g);
  for (const Node& n : g.nodes())
    if (live[n.id] && n.kind != OpKind::Input && n.kind != OpKind::Param &&
        n.kind != OpKind::Constant)
      checkMapped(n);
  for (const Binding& b : g.inputs()) {
    if (!live[b.node] || b.role != ValueRole::EmbeddingRows) continue;
    for (const FeatureSpec& f : model.plan.features) {
      if (f.name != b.name) continue;
      for (const rt::TableSpec& t : model.plan.tables)
        if (t.name == f.table && t.dynamic)
          throw ExportError(fmt::format(
              "{}: table '{}' of input '{}' is dynamic (rows allocated when first touched, {} "
              "rows declared); recc export writes dense tables only (docs/export.md)",
              g.node(b.node).loc.str(), t.name, f.name, t.rows));
    }
  }
}

ExportSummary exportOnnx(const CompiledModel& model, const Graph& g, const rt::ModelState& state,
                         const std::string& path, const ExportOptions& options) {
  checkExportable(model, g);
  onnx::ModelProto proto;
  proto.set_ir_version(8);  // onnx 1.12's
  proto.set_producer_name("recc");
  proto.set_domain("ai.recc");
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  onnx::GraphProto& graph = *proto.mutable_graph();
  const std::string name = options.name.empty() ? model.plan.model : options.name;
  graph.set_name(name);
  graph.set_doc_string("the serving graph '" + name + "' of recc model '" + model.plan.model + "'");

  WeightSink sink;
  OnnxWriter writer(graph, sink);
  Exporter exporter(model, g, state, writer);
  ExportSummary summary;
  summary.weightBytes = exporter.survey();
  if (options.external || summary.weightBytes > kInlineWeightLimit) {
    sink.location = std::filesystem::path(path).filename().string() + ".data";
    sink.path = path + ".data";
  }
  nlohmann::json inputs = exporter.emit();

  auto meta = [&proto](const std::string& key, const std::string& value) {
    onnx::StringStringEntryProto* e = proto.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  };
  meta("recc.model", model.plan.model);
  meta("recc.graph", name);
  meta("recc.step", std::to_string(state.step));
  meta("recc.inputs", inputs.dump());

  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    rt::fail("{}: the ONNX model could not be serialized ({} bytes of weights)", path,
             summary.weightBytes);
  if (!sink.path.empty()) {
    writeFile(sink.path, sink.bytes);
    summary.sideFile = sink.path;
  }
  writeFile(path, bytes);
  summary.nodes = graph.node_size();
  summary.inputs = graph.input_size();
  summary.outputs = graph.output_size();
  return summary;
}

} // namespace recc::onnxexp
