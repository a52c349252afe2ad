// GraphStats: see the header.
#include "compiler/ir/GraphStats.h"

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

} // namespace recc
