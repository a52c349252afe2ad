// OnnxOps: the ONNX (opset 17) form of each compute op of the graph IR. The
// leaves (inputs, parameters, state) are the exporter's (OnnxExport.cpp);
// everything else maps here, one small function per op, written from the op's
// reference kernel in compiler/ops (its semantics, not its code: e.g. one_hot
// and gather_matmul give zero rows for ids outside their range, which ONNX's
// OneHot and Gather would wrap or refuse).
#pragma once

#include "compiler/export/OnnxWriter.h"
#include "compiler/ir/Graph.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace recc::onnxexp {

/// An op the export cannot write; the message names the op and its source.
struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Why op `kind` has no ONNX mapping, or null if it has one.
const char* unmappedReason(OpKind kind);
/// Throws ExportError, naming the op and its source position, unless node
/// `n`'s op maps to ONNX.
void checkMapped(const Node& n);

/// [B,16] -> [-1,16]: a shape constant for Reshape (each batch dim is -1).
std::vector<int64_t> reshapeDims(const Shape& s);

/// Writes node `n` of `g`, whose inputs are the ONNX values `in`; returns
/// the value holding its result. Throws ExportError for an op ONNX export
/// does not map (naming it and its source position).
std::string emitOp(OnnxWriter& w, const Graph& g, const Node& n, const std::vector<std::string>& in);

} // namespace recc::onnxexp
