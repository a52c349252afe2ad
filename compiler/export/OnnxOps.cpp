// OnnxOps: see OnnxOps.h. Every value is float32; ids stay floats as in the
// graph IR and are cast to int64 only where ONNX indexes by them.
#include "compiler/export/OnnxOps.h"

#include "compiler/ops/OpHelpers.h"

#include <fmt/format.h>

#include <algorithm>

namespace recc::onnxexp {

namespace {

constexpr int kFloat = onnx::TensorProto::FLOAT;
constexpr int kInt64 = onnx::TensorProto::INT64;

std::string cast(OnnxWriter& w, const std::string& x, int to) {
  return w.op("Cast", {x}, {attrInt("to", to)});
}

std::string reshape(OnnxWriter& w, const std::string& x, const Shape& s) {
  return w.op("Reshape", {x, w.ints(reshapeDims(s))});
}

std::string unsqueeze(OnnxWriter& w, const std::string& x, std::vector<int64_t> axes) {
  return w.op("Unsqueeze", {x, w.ints(axes, "axes")});
}

/// Swaps the last two axes of a value of rank `rank`.
std::string transposeLast(OnnxWriter& w, const std::string& x, size_t rank) {
  std::vector<int64_t> perm;
  for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(i));
  std::swap(perm[rank - 2], perm[rank - 1]);
  return w.op("Transpose", {x}, {attrInts("perm", perm)});
}

std::string matmul(OnnxWriter& w, const Graph& g, const Node& n,
                   const std::vector<std::string>& in) {
  std::string a = in[0], b = in[1];
  if (n.attrs.getInt("transpose_a")) a = transposeLast(w, a, g.node(n.inputs[0]).shape.rank());
  if (n.attrs.getInt("transpose_b")) b = transposeLast(w, b, g.node(n.inputs[1]).shape.rank());
  return w.op("MatMul", {a, b});
}

std::string scaleShift(OnnxWriter& w, const Node& n, const std::string& x) {
  const double scale = n.attrs.getFloat("scale", 1), shift = n.attrs.getFloat("shift", 0);
  std::string y = x;
  if (scale != 1) y = w.op("Mul", {y, w.floatScalar(static_cast<float>(scale))});
  if (shift != 0) y = w.op("Add", {y, w.floatScalar(static_cast<float>(shift))});
  return y == x ? w.op("Identity", {x}) : y;
}

/// max(x, 0) + log(1 + exp(-|x|)): the reference kernel's stable form.
std::string softplus(OnnxWriter& w, const std::string& x) {
  std::string e = w.op("Exp", {w.op("Neg", {w.op("Abs", {x})})});
  return w.op("Add", {w.op("Relu", {x}), w.op("Log", {w.op("Add", {e, w.floatScalar(1)})})});
}

std::string step(OnnxWriter& w, const std::string& x) {
  return cast(w, w.op("Greater", {x, w.floatScalar(0)}), kFloat);
}

std::string slice(OnnxWriter& w, const Node& n, const Shape& x, const std::string& in) {
  const int64_t axis = ophelpers::normalizeAxis(n.attrs.getInt("axis"), x.rank(), "slice");
  const int64_t start = n.attrs.getInt("start"), size = n.attrs.getInt("size");
  return w.op("Slice", {in, w.ints({start}, "starts"), w.ints({start + size}, "ends"),
                        w.ints({axis}, "axes")});
}

std::string reduce(OnnxWriter& w, const Node& n, const Shape& x, const std::string& in) {
  std::vector<int64_t> axes = ophelpers::normalizeAxes(n.attrs.getInts("axes"), x.rank(), "reduce");
  auto keep = attrInt("keepdims", n.attrs.getInt("keepdims"));
  // Opset 13 moved ReduceSum's axes to an input; ReduceMean/Max follow in 18.
  if (n.kind == OpKind::ReduceSum) return w.op("ReduceSum", {in, w.ints(axes, "axes")}, {keep});
  return w.op(n.kind == OpKind::ReduceMean ? "ReduceMean" : "ReduceMax", {in},
              {attrInts("axes", axes), keep});
}

/// ids [..] -> [.., depth]: 1 where the (truncated) id equals the column;
/// ids outside [0, depth), padding -1 among them, give zero rows.
std::string oneHot(OnnxWriter& w, const Node& n, const std::string& ids) {
  const int64_t depth = n.attrs.getInt("depth");
  std::vector<int64_t> range(depth);
  for (int64_t i = 0; i < depth; ++i) range[i] = i;
  std::string col = unsqueeze(w, cast(w, ids, kInt64), {-1});
  return cast(w, w.op("Equal", {col, w.ints(range, "range")}), kFloat);
}

std::string causalMask(OnnxWriter& w, const Node& n) {
  const int64_t size = n.attrs.getInt("size");
  std::vector<float> m(static_cast<size_t>(size * size), 0.0f);
  for (int64_t r = 0; r < size; ++r)
    for (int64_t c = 0; c <= r; ++c) m[r * size + c] = 1;
  return w.floats({size, size}, m, "causal_mask");
}

/// y[b] = x[b] · w[ids[b]], zero rows for ids outside [0, V).
std::string gatherMatMul(OnnxWriter& w, const Graph& g, const Node& n,
                         const std::vector<std::string>& in) {
  const Shape& wt = g.node(n.inputs[1]).shape;
  const int64_t depth = wt[0], units = wt[2];
  std::string ids = cast(w, w.op("Reshape", {in[2], w.ints({-1})}), kInt64);
  std::string valid = w.op("And", {w.op("GreaterOrEqual", {ids, w.int64Scalar(0)}),
                                   w.op("Less", {ids, w.int64Scalar(depth)})});
  std::string index = w.op("Where", {valid, ids, w.int64Scalar(0)});
  std::string mats = w.op("Gather", {in[1], index}, {attrInt("axis", 0)});   // [B,n,u]
  std::string rows = w.op("MatMul", {unsqueeze(w, in[0], {1}), mats});       // [B,1,u]
  rows = w.op("Reshape", {rows, w.ints({-1, units})});
  return w.op("Mul", {rows, unsqueeze(w, cast(w, valid, kFloat), {1})});
}

[[noreturn]] void unmapped(const Node& n) {
  const char* why = unmappedReason(n.kind);
  throw ExportError(fmt::format("{}: op '{}' (%{}) has no ONNX mapping: {}", n.loc.str(),
                                opName(n.kind), n.id, why ? why : "not a compute op"));
}

} // namespace

const char* unmappedReason(OpKind kind) {
  switch (kind) {
  case OpKind::Dropout: return "dropout belongs to training; an eval graph has none";
  case OpKind::ArgMaxMask:
  case OpKind::ScatterMatMul:
  case OpKind::Pad:
  case OpKind::SumTo:
  case OpKind::Expand: return "only gradient rules build it; an eval graph has none";
  case OpKind::TopK:
    return "retrieval's top-K ranks a whole corpus, outside the serving graph; export the "
           "towers instead (--tower user, --tower item; docs/export.md)";
  case OpKind::GroupSum: return "each row depends on other rows of the batch";
  case OpKind::Input:
  case OpKind::Param: return "a leaf the exporter binds, not a compute op";
  default: return nullptr;
  }
}

void checkMapped(const Node& n) {
  if (unmappedReason(n.kind)) unmapped(n);
}

std::vector<int64_t> reshapeDims(const Shape& s) {
  std::vector<int64_t> d = s.dims;
  for (int64_t& x : d)
    if (isBatchDim(x)) x = -1;
  return d;
}

std::string emitOp(OnnxWriter& w, const Graph& g, const Node& n, const std::vector<std::string>& in) {
  auto shapeOf = [&](int i) -> const Shape& { return g.node(n.inputs[i]).shape; };
  switch (n.kind) {
  case OpKind::Neg: return w.op("Neg", {in[0]});
  case OpKind::Relu: return w.op("Relu", {in[0]});
  case OpKind::Sigmoid: return w.op("Sigmoid", {in[0]});
  case OpKind::Tanh: return w.op("Tanh", {in[0]});
  case OpKind::Exp: return w.op("Exp", {in[0]});
  case OpKind::Log: return w.op("Log", {in[0]});
  case OpKind::Softplus: return softplus(w, in[0]);
  case OpKind::Step: return step(w, in[0]);
  case OpKind::Clamp:
    return w.op("Clip", {in[0], w.floatScalar(static_cast<float>(n.attrs.getFloat("lo"))),
                         w.floatScalar(static_cast<float>(n.attrs.getFloat("hi")))});
  case OpKind::ScaleShift: return scaleShift(w, n, in[0]);
  case OpKind::Add: return w.op("Add", in);
  case OpKind::Sub: return w.op("Sub", in);
  case OpKind::Mul: return w.op("Mul", in);
  case OpKind::Div: return w.op("Div", in);
  case OpKind::MatMul:
  case OpKind::BatchMatMul: return matmul(w, g, n, in);
  case OpKind::GatherMatMul: return gatherMatMul(w, g, n, in);
  case OpKind::Concat:
    return w.op("Concat", in,
                {attrInt("axis", ophelpers::normalizeAxis(n.attrs.getInt("axis"), n.shape.rank(),
                                                          "concat"))});
  case OpKind::Slice: return slice(w, n, shapeOf(0), in[0]);
  case OpKind::Reshape: return reshape(w, in[0], n.shape);
  case OpKind::Transpose: return w.op("Transpose", {in[0]}, {attrInts("perm", n.attrs.getInts("perm"))});
  case OpKind::BroadcastLike: return w.op("Expand", {in[0], w.op("Shape", {in[1]})});
  case OpKind::OneHot: return oneHot(w, n, in[0]);
  case OpKind::CausalMask: return causalMask(w, n);
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ReduceMax: return reduce(w, n, shapeOf(0), in[0]);
  case OpKind::StopGradient:
  case OpKind::GradReverse: return w.op("Identity", {in[0]});
  default: unmapped(n);
  }
}

} // namespace recc::onnxexp
