// OnnxWriter: see OnnxWriter.h.
#include "compiler/export/OnnxWriter.h"

#include <cstring>

namespace recc::onnxexp {

onnx::AttributeProto attrInt(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto attrInts(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

std::string OnnxWriter::fresh(const std::string& hint) {
  return (hint.empty() ? std::string("t") : hint) + "_" + std::to_string(Counter++);
}

void OnnxWriter::opInto(const std::string& output, const std::string& type,
                        const std::vector<std::string>& inputs,
                        const std::vector<onnx::AttributeProto>& attrs) {
  onnx::NodeProto* n = Graph.add_node();
  n->set_op_type(type);
  n->set_name(output + "/" + type);
  for (const std::string& in : inputs) n->add_input(in);
  n->add_output(output);
  for (const onnx::AttributeProto& a : attrs) *n->add_attribute() = a;
}

std::string OnnxWriter::op(const std::string& type, const std::vector<std::string>& inputs,
                           const std::vector<onnx::AttributeProto>& attrs,
                           const std::string& hint) {
  std::string out = fresh(hint.empty() ? type : hint);
  opInto(out, type, inputs, attrs);
  return out;
}

std::string OnnxWriter::ints(const std::vector<int64_t>& values, const std::string& hint) {
  std::string name = fresh(hint);
  onnx::TensorProto* t = Graph.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return name;
}

std::string OnnxWriter::int64Scalar(int64_t v) {
  std::string name = fresh("i");
  onnx::TensorProto* t = Graph.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_int64_data(v);
  return name;
}

std::string OnnxWriter::floatScalar(float v) {
  std::string name = fresh("f");
  onnx::TensorProto* t = Graph.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_float_data(v);
  return name;
}

std::string OnnxWriter::floats(const std::vector<int64_t>& dims, const std::vector<float>& values,
                               const std::string& hint) {
  std::string name = fresh(hint);
  weight(name, dims, values.data());
  return name;
}

void OnnxWriter::weight(const std::string& name, const std::vector<int64_t>& dims,
                        const float* data) {
  onnx::TensorProto* t = Graph.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  // ONNX stores raw_data little-endian, as this (x86-64, AArch64) host does.
  if (Sink.location.empty() || static_cast<int64_t>(bytes) < Sink.threshold) {
    t->set_raw_data(data, bytes);
    return;
  }
  // External data: offsets aligned to 4 KiB so a reader may map them.
  Sink.bytes.resize((Sink.bytes.size() + 4095) / 4096 * 4096, '\0');
  const size_t offset = Sink.bytes.size();
  Sink.bytes.append(reinterpret_cast<const char*>(data), bytes);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto entry = [t](const std::string& key, const std::string& value) {
    onnx::StringStringEntryProto* e = t->add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  entry("location", Sink.location);
  entry("offset", std::to_string(offset));
  entry("length", std::to_string(bytes));
}

void OnnxWriter::valueInfo(onnx::ValueInfoProto& info, const std::string& name, int elemType,
                           const std::vector<int64_t>& dims) {
  info.set_name(name);
  onnx::TypeProto_Tensor* tt = info.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elemType);
  onnx::TensorShapeProto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    onnx::TensorShapeProto_Dimension* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}

void OnnxWriter::input(const std::string& name, int elemType, const std::vector<int64_t>& dims) {
  valueInfo(*Graph.add_input(), name, elemType, dims);
}

void OnnxWriter::output(const std::string& name, int elemType, const std::vector<int64_t>& dims) {
  valueInfo(*Graph.add_output(), name, elemType, dims);
}

} // namespace recc::onnxexp
