// Graph IR: a flat, append-only list of typed nodes in topological order.
// Each node is one op from the registry (compiler/ops) applied to earlier nodes,
// with named attributes, a static shape (batch symbolic) and a source location.
// Autodiff appends the backward graph to the same Graph, so every consumer
// (shape inference, printers, executors, MLIR lowering) serves both passes.
#pragma once

#include "compiler/ir/Shape.h"
#include "compiler/ops/OpKind.h"
#include "dsl/SourceLoc.h"

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace recc {

using NodeId = int;
inline constexpr NodeId kNoNode = -1;

/// An attribute value: integer, real, integer list or string.
using AttrValue = std::variant<int64_t, double, std::vector<int64_t>, std::string>;

/// Named attributes; ordered so that printing is deterministic.
class Attrs {
public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : map_(init) {}

  void set(const std::string& key, AttrValue v) { map_[key] = std::move(v); }
  bool has(const std::string& key) const { return map_.count(key) > 0; }
  int64_t getInt(const std::string& key, int64_t dflt = 0) const;
  double getFloat(const std::string& key, double dflt = 0.0) const;
  std::vector<int64_t> getInts(const std::string& key) const;
  std::string getString(const std::string& key, const std::string& dflt = "") const;
  const std::map<std::string, AttrValue>& all() const { return map_; }
  std::string str() const;  ///< "{axis=1, p=0.5}"; "" when empty.
  bool operator==(const Attrs& o) const { return map_ == o.map_; }

private:
  std::map<std::string, AttrValue> map_;
};

struct Node {
  NodeId id = kNoNode;
  OpKind kind;
  std::vector<NodeId> inputs;
  Attrs attrs;
  Shape shape;        ///< filled by shape inference
  std::string name;   ///< user-visible name ("" for temporaries)
  SourceLoc loc;
};

/// What a graph input or output means to the runtime that feeds the graph.
enum class ValueRole {
  Feature,       ///< dense feature columns [B,n]
  EmbeddingRows, ///< rows gathered from a table by the runtime [B,d] or [B,L,d]
  Label,         ///< a label column [B]
  Param,         ///< a dense trainable parameter
  Seed,          ///< per-step scalar random seed (dropout)
  Output,        ///< a named model output (predictions)
  Loss,          ///< the scalar training loss
  LossTerm,      ///< a named component of the loss (reported, not optimized)
  Gradient,      ///< d loss / d (a Param or EmbeddingRows input)
  // Model state and progress, kept and fed by the runtime (runtime/StateStore.h):
  State,         ///< a non-trainable buffer kept across steps: running statistics,
                 ///< EMA shadow parameters (attrs ema_of, decay)
  StateUpdate,   ///< the new value of the State of the same name, after a train step
  Progress,      ///< training progress in [0,1], fed per step (schedules)
  BatchSlice,    ///< [first row, rows] of one stream's global batch that this process
                 ///< runs, fed per step ("batch_slice", "batch_slice.K" for stream K):
                 ///< dropout masks then match one process's under mpirun
};
const char* roleName(ValueRole role);

/// A graph-level input or output: a node plus the role and name the runtime sees.
struct Binding {
  NodeId node;
  ValueRole role;
  std::string name;  ///< the parameter/feature/output name; for Gradient, the wrt name
};

class Graph {
public:
  /// Appends a node; inputs must already exist. Returns its id.
  NodeId add(OpKind kind, std::vector<NodeId> inputs, Attrs attrs = {},
             SourceLoc loc = {}, std::string name = "");

  const Node& node(NodeId id) const { return nodes_[id]; }
  Node& node(NodeId id) { return nodes_[id]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }

  void addInput(NodeId node, ValueRole role, std::string name);
  void addOutput(NodeId node, ValueRole role, std::string name);
  const std::vector<Binding>& inputs() const { return inputs_; }
  const std::vector<Binding>& outputs() const { return outputs_; }
  /// Drops every output binding (a copy of a graph then gets new outputs:
  /// the towers of retrieval, compiler/passes/Towers.h).
  void clearOutputs() { outputs_.clear(); }
  /// Unbinds the inputs of `role` that no output depends on. Their nodes stay,
  /// dead (no backend lowers a node no output needs), so node ids do not move.
  /// An eval graph then does not ask for data only its training twin reads.
  void unbindDeadInputs(ValueRole role);
  /// The input bound to `name` with `role`, or kNoNode.
  NodeId findInput(ValueRole role, const std::string& name) const;
  NodeId findOutput(ValueRole role, const std::string& name) const;

  /// Number of nodes that belong to the forward pass (autodiff appends after).
  size_t forwardSize() const { return forwardSize_; }
  void markForwardEnd() { forwardSize_ = nodes_.size(); }

private:
  std::vector<Node> nodes_;
  std::vector<Binding> inputs_;
  std::vector<Binding> outputs_;
  size_t forwardSize_ = 0;
};

} // namespace recc
