// Structure ops: concat, slice, zero-pad, reshape, transpose, the broadcast/
// sum-to pair that autodiff uses to undo implicit broadcasting, and the
// index-built tensors one_hot and causal_mask. Slice and pad are each other's
// gradient, as are broadcast_like and sum_to; a transpose's is the inverse
// permutation.
#include "compiler/ops/OpHelpers.h"

#include <algorithm>
#include <cstring>

namespace recc::ophelpers {

/// Extents before and after `axis` of a concrete shape: [outer, axis, inner].
static void splitAt(const std::vector<int64_t>& s, int64_t axis, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i) inner *= s[i];
}

static int64_t checkedAxis(const Shape& s, const Attrs& a, const char* op) {
  int64_t axis = normalizeAxis(a.getInt("axis"), s.rank(), op);
  if (isBatchDim(s[axis]))
    throw ShapeError(fmt::format("'{}' along the batch axis of {} is not supported", op, s.str()));
  return axis;
}

// --- concat ------------------------------------------------------------------
static Shape inferConcat(const ShapeCtx& c) {
  if (c.in.empty()) throw ShapeError("'concat' needs at least one operand");
  Shape out = c.in[0];
  int64_t axis = checkedAxis(out, c.attrs, "concat");
  out.dims[axis] = 0;
  for (const Shape& s : c.in) {
    bool ok = s.rank() == out.rank();
    for (size_t i = 0; ok && i < s.rank(); ++i)
      if ((int64_t)i != axis && s[i] != c.in[0][i]) ok = false;
    if (!ok || isBatchDim(s[axis]))
      throw ShapeError(fmt::format("cannot concatenate shapes {} and {} along axis {}",
                                   c.in[0].str(), s.str(), axis));
    out.dims[axis] += s[axis];
  }
  return out;
}

static void evalConcat(const EvalCtx& c) {
  int64_t axis = normalizeAxis(c.attrs.getInt("axis"), c.out.shape.size(), "concat");
  int64_t outer, inner;
  splitAt(c.out.shape, axis, outer, inner);
  int64_t outRow = c.out.shape[axis] * inner, at = 0;
  for (const RefTensor* t : c.in) {
    int64_t chunk = t->shape[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(&c.out.data[o * outRow + at], &t->data[o * chunk], chunk * sizeof(double));
    at += chunk;
  }
}

static std::vector<NodeId> gradConcat(GradBuilder& g) {
  int64_t axis = normalizeAxis(g.attrs().getInt("axis"), g.shapeOf(g.y()).rank(), "concat");
  std::vector<NodeId> grads;
  int64_t start = 0;
  for (int i = 0; i < g.numInputs(); ++i) {
    int64_t size = g.shapeOf(g.x(i))[axis];
    grads.push_back(g.op(OpKind::Slice, {g.dy()},
                         {{"axis", axis}, {"start", start}, {"size", size}}));
    start += size;
  }
  return grads;
}

// --- slice / pad -------------------------------------------------------------
static Shape inferSlice(const ShapeCtx& c) {
  Shape out = c.in[0];
  int64_t axis = checkedAxis(out, c.attrs, "slice");
  int64_t start = c.attrs.getInt("start"), size = c.attrs.getInt("size");
  if (start < 0 || size < 0 || start + size > out[axis])
    throw ShapeError(fmt::format("slice [{}, {}) is out of range for axis {} of {}", start,
                                 start + size, axis, out.str()));
  out.dims[axis] = size;
  return out;
}

static Shape inferPad(const ShapeCtx& c) {
  Shape out = c.in[0];
  int64_t axis = checkedAxis(out, c.attrs, "pad");
  int64_t before = c.attrs.getInt("before"), after = c.attrs.getInt("after");
  if (before < 0 || after < 0) throw ShapeError("'pad' amounts must be non-negative");
  out.dims[axis] += before + after;
  return out;
}

/// Copies the window [start, start+size) of `axis` between a wide and a narrow
/// tensor; slice copies wide→narrow, pad narrow→wide (into zeros).
static void copyWindow(const RefTensor& wide, RefTensor& narrowOrWide, const RefTensor& narrow,
                       int64_t axis, int64_t start, bool toNarrow) {
  int64_t outer, inner;
  splitAt(wide.shape, axis, outer, inner);
  int64_t wideRow = wide.shape[axis] * inner, narrowRow = narrow.shape[axis] * inner;
  for (int64_t o = 0; o < outer; ++o) {
    if (toNarrow)
      std::memcpy(&narrowOrWide.data[o * narrowRow], &wide.data[o * wideRow + start * inner],
                  narrowRow * sizeof(double));
    else
      std::memcpy(&narrowOrWide.data[o * wideRow + start * inner], &narrow.data[o * narrowRow],
                  narrowRow * sizeof(double));
  }
}

static void evalSlice(const EvalCtx& c) {
  int64_t axis = normalizeAxis(c.attrs.getInt("axis"), c.out.shape.size(), "slice");
  copyWindow(*c.in[0], c.out, c.out, axis, c.attrs.getInt("start"), true);
}

static void evalPad(const EvalCtx& c) {
  int64_t axis = normalizeAxis(c.attrs.getInt("axis"), c.out.shape.size(), "pad");
  copyWindow(c.out, c.out, *c.in[0], axis, c.attrs.getInt("before"), false);
}

static std::vector<NodeId> gradSlice(GradBuilder& g) {
  int64_t axis = normalizeAxis(g.attrs().getInt("axis"), g.shapeOf(g.y()).rank(), "slice");
  int64_t start = g.attrs().getInt("start"), size = g.attrs().getInt("size");
  int64_t after = g.shapeOf(g.x(0))[axis] - start - size;
  return {g.op(OpKind::Pad, {g.dy()}, {{"axis", axis}, {"before", start}, {"after", after}})};
}

static std::vector<NodeId> gradPad(GradBuilder& g) {
  int64_t axis = normalizeAxis(g.attrs().getInt("axis"), g.shapeOf(g.y()).rank(), "pad");
  return {g.op(OpKind::Slice, {g.dy()},
               {{"axis", axis},
                {"start", g.attrs().getInt("before")},
                {"size", g.shapeOf(g.x(0))[axis]}})};
}

// --- reshape -----------------------------------------------------------------
static Shape inferReshape(const ShapeCtx& c) {
  Shape out(c.attrs.getInts("shape"));
  const Shape& in = c.in[0];
  // The product of the static extents; -1 when it overflows (a count that
  // wrapped could make two different sizes look equal).
  auto staticPart = [](const Shape& s, int& batches, bool& leading) {
    int64_t n = 1;
    batches = 0;
    leading = true;
    for (size_t i = 0; i < s.rank(); ++i) {
      if (isBatchDim(s[i])) {
        ++batches;
        leading = leading && i == 0;
      } else if (__builtin_mul_overflow(n, s[i], &n)) {
        return int64_t(-1);
      }
    }
    return n;
  };
  int bi, bo;
  bool li, lo;
  int64_t ni = staticPart(in, bi, li), no = staticPart(out, bo, lo);
  if (ni < 0 || no < 0 || ni != no || bi != bo || bi > 1 || !li || !lo || (bi == 1 && in[0] != out[0]))
    throw ShapeError(fmt::format("cannot reshape {} to {}", in.str(), out.str()));
  return out;
}

static void evalCopy(const EvalCtx& c) { c.out.data = c.in[0]->data; }

static std::vector<NodeId> gradReshape(GradBuilder& g) {
  return {g.op(OpKind::Reshape, {g.dy()}, {{"shape", g.shapeOf(g.x(0)).dims}})};
}

// --- broadcast_like / sum_to -------------------------------------------------
static Shape inferBroadcastLike(const ShapeCtx& c) {
  if (broadcastShapes(c.in[0], c.in[1], "broadcast") != c.in[1])
    throw ShapeError(fmt::format("cannot broadcast {} to {}", c.in[0].str(), c.in[1].str()));
  return c.in[1];
}

static Shape inferSumTo(const ShapeCtx& c) {
  if (broadcastShapes(c.in[1], c.in[0], "sum") != c.in[0])
    throw ShapeError(fmt::format("cannot sum {} down to {}", c.in[0].str(), c.in[1].str()));
  return c.in[1];
}

static void evalBroadcastLike(const EvalCtx& c) {
  auto st = broadcastStrides(c.in[0]->shape, c.out.shape);
  forEachBroadcast(c.out.shape, st,
                   [&](int64_t i, int64_t off) { c.out.data[i] = c.in[0]->data[off]; });
}

static void evalSumTo(const EvalCtx& c) {
  // Walk the big input; its element i lands on out[off] (out broadcast to it).
  auto st = broadcastStrides(c.out.shape, c.in[0]->shape);
  forEachBroadcast(c.in[0]->shape, st,
                   [&](int64_t i, int64_t off) { c.out.data[off] += c.in[0]->data[i]; });
}

static std::vector<NodeId> gradBroadcastLike(GradBuilder& g) {
  return {g.sumTo(g.dy(), g.x(0)), kNoNode};
}

static std::vector<NodeId> gradSumTo(GradBuilder& g) {
  return {g.op(OpKind::BroadcastLike, {g.dy(), g.x(0)}), kNoNode};
}

// --- transpose -----------------------------------------------------------------
static Shape inferTranspose(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  std::vector<int64_t> perm = c.attrs.getInts("perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = perm.size() == x.rank();
  for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == (int64_t)i;
  if (!ok)
    throw ShapeError(fmt::format("'transpose': the permutation does not fit a value of shape {}",
                                 x.str()));
  Shape out;
  for (int64_t p : perm) out.dims.push_back(x[p]);
  if (x.hasBatch() && (!isBatchDim(x[0]) || perm[0] != 0))
    throw ShapeError(fmt::format("'transpose' must keep the batch axis first, got {} -> {}",
                                 x.str(), out.str()));
  return out;
}

// out[i_0, ..., i_r] = x[j] with j's axis perm[a] = i_a: walking the output
// row-major reads x with its strides permuted.
static void evalTranspose(const EvalCtx& c) {
  std::vector<int64_t> perm = c.attrs.getInts("perm");
  std::vector<int64_t> xs = stridesOf(c.in[0]->shape), st(perm.size());
  for (size_t a = 0; a < perm.size(); ++a) st[a] = xs[perm[a]];
  forEachBroadcast(c.out.shape, st,
                   [&](int64_t i, int64_t off) { c.out.data[i] = c.in[0]->data[off]; });
}

static std::vector<NodeId> gradTranspose(GradBuilder& g) {
  std::vector<int64_t> perm = g.attrs().getInts("perm"), inverse(perm.size());
  for (size_t a = 0; a < perm.size(); ++a) inverse[perm[a]] = (int64_t)a;
  return {g.op(OpKind::Transpose, {g.dy()}, {{"perm", inverse}})};
}

// --- one_hot / causal_mask -------------------------------------------------------
static Shape inferOneHot(const ShapeCtx& c) {
  int64_t depth = c.attrs.getInt("depth");
  if (depth < 1) throw ShapeError(fmt::format("'one_hot' depth must be positive, got {}", depth));
  Shape out = c.in[0];
  out.dims.push_back(depth);
  return out;
}

// Ids are truncated toward zero (as the MLIR lowering's fptosi does); ids
// outside [0, depth), -1 (padding) among them, give a row of zeros.
static void evalOneHot(const EvalCtx& c) {
  int64_t depth = c.attrs.getInt("depth");
  const auto& ids = c.in[0]->data;
  for (size_t i = 0; i < ids.size(); ++i) {
    int64_t id = (int64_t)ids[i];
    if (id >= 0 && id < depth) c.out.data[i * depth + id] = 1;
  }
}

static Shape inferCausalMask(const ShapeCtx& c) {
  int64_t n = c.attrs.getInt("size");
  if (n < 1) throw ShapeError(fmt::format("'causal_mask' size must be positive, got {}", n));
  return Shape{n, n};
}

static void evalCausalMask(const EvalCtx& c) {
  int64_t n = c.out.dim(0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t col = 0; col <= r; ++col) c.out.data[r * n + col] = 1;
}

std::vector<OpDef> structureOps() {
  return {
      {OpKind::Concat, inferConcat, evalConcat, gradConcat},
      {OpKind::Slice, inferSlice, evalSlice, gradSlice},
      {OpKind::Pad, inferPad, evalPad, gradPad},
      {OpKind::Reshape, inferReshape, evalCopy, gradReshape},
      {OpKind::Transpose, inferTranspose, evalTranspose, gradTranspose},
      {OpKind::BroadcastLike, inferBroadcastLike, evalBroadcastLike, gradBroadcastLike},
      {OpKind::SumTo, inferSumTo, evalSumTo, gradSumTo},
      // Piecewise constant in the ids / no operands: zero gradient.
      {.kind = OpKind::OneHot, .infer = inferOneHot, .eval = evalOneHot, .noGradient = true},
      {.kind = OpKind::CausalMask,
       .infer = inferCausalMask,
       .eval = evalCausalMask,
       .noGradient = true},
  };
}

} // namespace recc::ophelpers
