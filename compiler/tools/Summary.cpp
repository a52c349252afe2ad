// Summary: counts of inputs, tables, parameters, nodes and FLOPs of a model.
#include "compiler/tools/Summary.h"

#include "compiler/ir/GraphStats.h"
#include "runtime/CheckedMath.h"
#include "runtime/DynamicRows.h"
#include "runtime/OptimizerMath.h"
#include "runtime/Error.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace recc {

void printSummary(const CompiledModel& m, std::ostream& os) {
  const auto& p = m.plan;
  // Checked: a wrapped count would make a huge model look small.
  auto overflow = [](const std::string& name) {
    rt::fail("model summary: the parameter count overflows 64 bits at '{}'", name);
  };
  int64_t tableParams = 0, denseParams = 0;
  for (const auto& t : p.tables) {
    auto total = rt::checkedMulAdd(t.rows, t.dim, tableParams);
    if (!total) overflow(t.name);
    tableParams = *total;
  }
  for (const auto& q : p.params) {
    auto total = rt::checkedMulAdd(rt::checkedProduct(q.shape), 1, denseParams);
    if (!total) overflow(q.name);
    denseParams = *total;
  }
  fmt::print(os, "model '{}': ok\n", p.model);
  fmt::print(os, "  inputs:  {} features, {} labels\n", p.features.size(), p.labels.size());
  fmt::print(os, "  tables:  {} ({} parameters)\n", p.tables.size(), tableParams);
  const int slots = rt::optimizerSlots(rt::optimizerKind(p.optimizer.kind));
  for (const auto& t : p.tables) {
    fmt::print(os, "    {} [{}, {}]", t.name, t.rows, t.dim);
    if (t.dynamic)
      fmt::print(os, " dynamic: rows allocated when first touched, {} bytes each",
                 rt::DynamicRows::bytesPerRow(t.dim, slots));
    fmt::print(os, "\n");
  }
  fmt::print(os, "  dense:   {} tensors ({} parameters)\n", p.params.size(), denseParams);
  fmt::print(os, "  graph:   {} forward nodes, {} backward nodes\n", m.trainGraph.forwardSize(),
             m.trainGraph.size() - m.trainGraph.forwardSize());
  for (const auto& b : m.evalGraph.outputs())
    fmt::print(os, "  {:<9} {} : {}\n", std::string(roleName(b.role)) + ":", b.name,
               m.evalGraph.node(b.node).shape.str());
  for (const auto& metric : p.metrics) {
    std::string by = metric.groupColumn.empty() ? "" : ", by = " + metric.groupColumn;
    std::string where = metric.filterLabel.empty() ? "" : " where " + metric.filterLabel;
    std::string scored = metric.targetColumn.empty()
                             ? metric.label
                             : fmt::format("{}, k = {}", metric.targetColumn, metric.k);
    fmt::print(os, "  metric:   {} = {}({}, {}{}){}\n", metric.name, metric.kind, metric.output,
               scored, by, where);
  }
  double fwd = forwardFlopsPerSample(m.evalGraph);
  fmt::print(os, "  dense FLOPs/sample: {:.2f} M forward, {:.2f} M train\n", fwd / 1e6,
             3 * fwd / 1e6);
  fmt::print(os, "  train: {} lr={} batch={} epochs={}{}\n", p.optimizer.kind, p.optimizer.lr,
             p.batchSize, p.epochs,
             p.clipNorm > 0 ? fmt::format(" clip_norm={}", p.clipNorm) : std::string());
  if (!p.initFrom.empty())
    fmt::print(os, "  stage:   starts from model '{}' (train with --init-from its checkpoint)\n",
               p.initFrom);
  if (!p.frozen.empty())
    fmt::print(os, "  frozen:  {}\n", fmt::join(p.frozen, ", "));
  if (!p.columns.empty())
    fmt::print(os, "  data:    no header row; {} columns by position, delimiter {}\n",
               p.columns.size(), p.delimiter.empty() ? "by extension" : p.delimiter);
  std::vector<rt::StepMemory> steps = estimateStepMemory(m);
  // Each part is counted in checked arithmetic; their sums, only printed,
  // in doubles (the memory check refuses what overflows).
  double state = (double)rt::modelStateBytes(p), buffers = 0, working = 0;
  for (const rt::StepMemory& s : steps) {
    buffers += (double)rt::stepBufferBytes(p, *s.spec, s.batch);
    working += (double)s.workingBytes;
  }
  fmt::print(os, "  memory:  tables and parameters with their {} state {}, step buffers {}, "
             "step activations about {} at batch {}\n", p.optimizer.kind, rt::formatBytes(state),
             rt::formatBytes(buffers), rt::formatBytes(working), p.batchSize);
  for (const auto& t : p.tables)
    if (t.dynamic) {
      fmt::print(os, "           (dynamic tables are counted without rows here; training "
                     "counts the distinct ids of its data)\n");
      break;
    }
}

std::vector<rt::StepMemory> estimateStepMemory(const CompiledModel& m) {
  const int64_t batch = m.plan.batchSize;
  return {{&m.plan.trainStep, batch, peakLiveBytes(m.trainGraph, batch, sizeof(float))},
          {&m.plan.evalStep, batch, peakLiveBytes(m.evalGraph, batch, sizeof(float))}};
}

} // namespace recc
