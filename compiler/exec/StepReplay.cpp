// StepReplay: see StepReplay.h.
#include "compiler/exec/StepReplay.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace recc {

namespace {

/// The float the compiled backends would hold for `x`.
double toFloat(double x) { return static_cast<double>(static_cast<float>(x)); }

/// "[2,0]": the multi-index of flat element `at` of a tensor of `shape`.
std::string indexString(const std::vector<int64_t>& shape, int64_t at) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] > 0 ? at % shape[d] : 0;
    at = shape[d] > 0 ? at / shape[d] : 0;
  }
  return fmt::format("[{}]", fmt::join(idx, ","));
}

double maxAbs(const RefTensor& t) {
  double m = 0;
  for (double v : t.data) m = std::max(m, std::fabs(v));
  return m;
}

bool isBatched(const Node& n) { return !n.shape.dims.empty() && isBatchDim(n.shape.dims[0]); }

} // namespace

StepReplay::StepReplay(const Graph& graph) : G(graph), Exec(graph) {}

void StepReplay::validate(const rt::NormCheck& check) const {
  if (check.value.empty()) return;
  std::set<std::string> names;
  for (size_t i = 0; i < G.forwardSize(); ++i) {
    const Node& n = G.node((NodeId)i);
    if (n.name == check.value && isBatched(n)) return;
    if (!n.name.empty() && isBatched(n)) names.insert(n.name);
  }
  rt::fail("--check-norms: the model has no batched value named '{}' (values: {})", check.value,
           fmt::join(names, ", "));
}

std::vector<RefTensor> StepReplay::inputs(const rt::BatchSizes& batch, const float* const* buffers) const {
  std::vector<RefTensor> in;
  const auto& bindings = G.inputs();
  in.reserve(bindings.size());
  for (size_t k = 0; k < bindings.size(); ++k) {
    RefTensor t(G.node(bindings[k].node).shape.concrete(batch));
    for (int64_t i = 0; i < t.size(); ++i) t.data[i] = buffers[k][i];
    in.push_back(std::move(t));
  }
  return in;
}

std::string StepReplay::describe(const Node& n, const RefTensor& value) const {
  std::string what = n.kind == OpKind::Input || n.kind == OpKind::Param
                         ? std::string(opName(n.kind))
                         : fmt::format("op {}", opName(n.kind));
  std::string name = n.name.empty() ? "(an unnamed value)" : fmt::format("'{}'", n.name);
  const char* pass = (size_t)n.id < G.forwardSize() ? "forward" : "backward pass, the gradient "
                                                                  "of the op written there";
  return fmt::format("{}: {} {} ({}) {}", n.loc.str(), what, name, pass, value.shapeStr());
}

std::string StepReplay::firstNonFinite(const rt::BatchSizes& batch, const float* const* buffers) {
  std::vector<double> largest(G.size(), 0.0);  // max |x| of each value seen
  std::string found;
  Exec.run(batch, inputs(batch, buffers), [&](const Node& n, RefTensor& v) {
    int64_t bad = -1;
    for (int64_t i = 0; i < v.size(); ++i) {
      v.data[i] = toFloat(v.data[i]);
      if (bad < 0 && !std::isfinite(v.data[i])) bad = i;
    }
    if (bad < 0) {
      largest[n.id] = maxAbs(v);
      return false;
    }
    found = fmt::format("first non-finite value of a reference replay of this step (its inputs "
                        "as it read them, the parameters before its update; each op's result "
                        "rounded to float):\n    {} is {} at element {}",
                        describe(n, v), v.data[bad], indexString(v.shape, bad));
    if (n.kind == OpKind::Input || n.kind == OpKind::Param) {
      found += "; it held non-finite values before this step";
      return true;
    }
    found += "\n    its inputs, all finite:";
    for (NodeId in : n.inputs) {
      const Node& i = G.node(in);
      found += fmt::format("\n      {}: {} {} {}, largest |x| {:.6g}", i.loc.str(), opName(i.kind),
                           i.name.empty() ? "(unnamed)" : "'" + i.name + "'",
                           RefTensor(i.shape.concrete(batch)).shapeStr(), largest[in]);
    }
    return true;
  });
  return found;
}

rt::NormReport StepReplay::checkNorms(const rt::BatchSizes& batch, const float* const* buffers,
                                      const rt::NormCheck& check) {
  rt::NormReport report;
  Exec.run(batch, inputs(batch, buffers), [&](const Node& n, RefTensor& v) {
    for (double& x : v.data) x = toFloat(x);
    if ((size_t)n.id >= G.forwardSize() || !isBatched(n) || v.size() == 0 ||
        (!check.value.empty() && n.name != check.value))
      return false;
    const int64_t rows = v.shape[0], width = v.size() / std::max<int64_t>(rows, 1);
    for (int64_t r = 0; r < rows; ++r) {
      double sq = 0;
      for (int64_t i = r * width; i < (r + 1) * width; ++i) sq += v.data[i] * v.data[i];
      const double norm = std::sqrt(sq);
      if (norm > report.largest) {
        report.largest = norm;
        report.largestValue = n.name.empty() ? std::string(opName(n.kind)) + " at " + n.loc.str()
                                             : n.name;
      }
      // A non-finite row fails too: !(norm <= limit).
      if (!(norm <= check.limit)) {
        report.exceeded = fmt::format("{} has row {} of L2 norm {:.6g} (limit {})",
                                      describe(n, v), r, norm, check.limit);
        return true;
      }
    }
    return false;
  });
  return report;
}

} // namespace recc
