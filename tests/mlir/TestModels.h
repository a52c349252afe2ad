// TestModels: small hand-built graphs shared by the MLIR tests and the AOT
// object generator (which must build the very same graphs the AOT test checks).
#pragma once

#include "compiler/ir/Graph.h"

namespace recc::mlirtest {

/// A two-tower, ESMM-like model: x[B,in] → shared relu layer (hidden) →
/// two sigmoid heads (ctr, cvr) with dropout on the shared layer; ctcvr =
/// ctr * cvr; loss = BCE(ctr, y1) + BCE(ctcvr, y2), averaged over the batch.
/// With `train`, Autodiff appends the backward graph and gradient outputs.
/// Inputs: x, y1, y2, seed, then params w1, b1, w2, b2, w3, b3.
Graph esmmLikeGraph(bool train, int64_t in = 13, int64_t hidden = 40);

}  // namespace recc::mlirtest
