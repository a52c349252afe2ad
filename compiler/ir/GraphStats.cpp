// GraphStats: see the header.
#include "compiler/ir/GraphStats.h"

#include "runtime/CheckedMath.h"

#include <algorithm>
#include <stdexcept>

namespace recc {

double forwardFlopsPerSample(const Graph& g) {
  size_t end = g.forwardSize() ? g.forwardSize() : g.size();
  double flops = 0;
  for (size_t i = 0; i < end; ++i) {
    const Node& n = g.node((NodeId)i);
    if (n.kind == OpKind::GatherMatMul) {  // x [B,n] · w[id] [n,u]: 2·n·u per row
      const Shape& w = g.node(n.inputs[1]).shape;
      flops += 2.0 * (double)w[1] * (double)w[2];
      continue;
    }
    if (n.kind != OpKind::MatMul && n.kind != OpKind::BatchMatMul) continue;
    // 2·(product of the result's extents)·K, with any batch dimension counted
    // once: FLOPs per sample.
    const Shape& a = g.node(n.inputs[0]).shape;
    size_t r = a.rank();
    int64_t k = n.attrs.getInt("transpose_a") ? a[r - 2] : a[r - 1];
    double f = 2.0 * (isBatchDim(k) ? 1.0 : (double)k);
    for (int64_t d : n.shape.dims) f *= isBatchDim(d) ? 1.0 : (double)d;
    flops += f;
  }
  return flops;
}

namespace {
int64_t valueBytes(const Shape& shape, int64_t batch, int64_t elementBytes) {
  std::vector<int64_t> dims = shape.dims;
  for (int64_t& d : dims)
    if (isBatchDim(d)) d = batch;  // streams too: an estimate may round up
  auto bytes = rt::checkedMulAdd(rt::checkedProduct(dims), elementBytes, 0);
  if (!bytes)
    throw std::overflow_error("a value of shape " + shape.str() + " at batch " +
                              std::to_string(batch) + " has more bytes than 64 bits can count");
  return *bytes;
}

int64_t add(int64_t a, int64_t b) {
  auto sum = rt::checkedAdd(a, b);
  if (!sum) throw std::overflow_error("the graph's live bytes overflow 64 bits");
  return *sum;
}
} // namespace

int64_t peakLiveBytes(const Graph& g, int64_t batch, int64_t elementBytes) {
  const size_t n = g.size();
  std::vector<int64_t> lastUse(n, -1);
  std::vector<bool> pinned(n, false);  // inputs and outputs: live throughout
  for (const auto& b : g.inputs()) pinned[b.node] = true;
  for (const auto& b : g.outputs()) pinned[b.node] = true;
  for (size_t i = 0; i < n; ++i)
    for (NodeId in : g.node((NodeId)i).inputs) lastUse[in] = (int64_t)i;
  int64_t live = 0;
  for (size_t i = 0; i < n; ++i)
    if (pinned[i]) live = add(live, valueBytes(g.node((NodeId)i).shape, batch, elementBytes));
  int64_t peak = live;
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.node((NodeId)i);
    if (!pinned[i] && lastUse[i] < 0) continue;  // unread values are never computed
    if (!pinned[i]) live = add(live, valueBytes(node.shape, batch, elementBytes));
    peak = std::max(peak, live);
    // Free what this node read last (a value read twice is freed once).
    std::vector<NodeId> ins = node.inputs;
    std::sort(ins.begin(), ins.end());
    ins.erase(std::unique(ins.begin(), ins.end()), ins.end());
    for (NodeId in : ins)
      if (!pinned[in] && lastUse[in] == (int64_t)i)
        live -= valueBytes(g.node(in).shape, batch, elementBytes);
  }
  return peak;
}

} // namespace recc
