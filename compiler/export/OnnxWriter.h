// OnnxWriter: a thin builder over onnx::GraphProto. It names values, appends
// nodes with their attributes, and adds constants and weights as
// initializers. The exporter (OnnxExport.cpp) speaks only in these calls, so
// it reads as a list of ONNX ops rather than of protobuf setters.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace recc::onnxexp {

/// One ONNX attribute of a node.
onnx::AttributeProto attrInt(const std::string& name, int64_t v);
onnx::AttributeProto attrInts(const std::string& name, const std::vector<int64_t>& v);

/// Where the raw bytes of large initializers go: inside the model (empty
/// `location`) or appended to a side file next to it (ONNX external data).
struct WeightSink {
  std::string location;  ///< the side file's name, relative to the model
  std::string path;      ///< where that file is written
  int64_t threshold = 1024;  ///< tensors of at least this many bytes go there
  std::string bytes;     ///< the side file's contents, written by the caller
};

class OnnxWriter {
public:
  OnnxWriter(onnx::GraphProto& graph, WeightSink& sink) : Graph(graph), Sink(sink) {}

  /// A value name not used yet, from `hint` ("t" if empty).
  std::string fresh(const std::string& hint);
  /// Appends `type(inputs)` with one output; returns the output's name.
  std::string op(const std::string& type, const std::vector<std::string>& inputs,
                 const std::vector<onnx::AttributeProto>& attrs = {},
                 const std::string& hint = "");
  /// Appends `type(inputs)` writing `output` (a name chosen by the caller).
  void opInto(const std::string& output, const std::string& type,
              const std::vector<std::string>& inputs,
              const std::vector<onnx::AttributeProto>& attrs = {});

  /// Initializers: int64 and float constants, and float weights.
  std::string ints(const std::vector<int64_t>& values, const std::string& hint = "shape");
  std::string int64Scalar(int64_t v);
  std::string floatScalar(float v);
  std::string floats(const std::vector<int64_t>& dims, const std::vector<float>& values,
                     const std::string& hint = "const");
  /// A weight tensor named exactly `name` (a parameter, a table); the bytes
  /// are copied (into the model or the side file).
  void weight(const std::string& name, const std::vector<int64_t>& dims, const float* data);

  /// Graph inputs and outputs; a negative dimension is the batch, "N".
  void input(const std::string& name, int elemType, const std::vector<int64_t>& dims);
  void output(const std::string& name, int elemType, const std::vector<int64_t>& dims);

private:
  void valueInfo(onnx::ValueInfoProto& info, const std::string& name, int elemType,
                 const std::vector<int64_t>& dims);

  onnx::GraphProto& Graph;
  WeightSink& Sink;
  int64_t Counter = 0;
};

} // namespace recc::onnxexp
