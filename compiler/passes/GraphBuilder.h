// GraphBuilder: the state and methods of BuildGraph, shared by the files that
// implement it: BuildDriver.cpp (the pass driver: declarations, results,
// plan), BuildGraph.cpp (evaluation, nodes, block calls), BuiltinCall.cpp
// (dispatch of a builtin call to its record), BuildLayers.cpp (the
// compositions of primitive ops behind the builtins), and the builtin records
// themselves (compiler/passes/builtins/, through BuiltinCall.h).
// Internal to compiler/passes; the public entry point is BuildGraph.h.
#pragma once

#include "compiler/passes/BuildGraph.h"

#include "compiler/ops/OpDef.h"
#include "dsl/Builtins.h"
#include "dsl/Sema.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>


namespace recc::buildgraph {

using namespace ast;
using FeatureKind = rt::FeatureSpec::Kind;

constexpr double kProbEps = 1e-7;
/// A model whose graph grows past this many nodes is rejected (a chain of
/// blocks each calling the next twice grows exponentially).
constexpr size_t kMaxNodes = size_t(1) << 20;
constexpr size_t kMaxBlockDepth = 64;

struct TooLarge {};

struct InputInfo {
  const Ident* ident = nullptr;
  FeatureKind kind = FeatureKind::Dense;
  int64_t vocab = 0, len = 0;
  int64_t words = 0;          ///< ids(V, len = L, words = W): a bag of W ids per position
  int64_t batch = kBatchDim;  ///< the batch dimension of its stream
  NodeId ids = kNoNode;       ///< id: the raw ids as a feature [B,1] or [B,L]
  NodeId oneHot = kNoNode;    ///< id: one_hot(ids) [B,V], cached for `by`
  std::string transform = "none";
  std::string lookup;              ///< id: "", "hash", "vocab" or "bucketize" (rt::FeatureSpec)
  std::string vocabFile;           ///< lookup "vocab": the file, resolved
  std::vector<double> boundaries;  ///< lookup "bucketize"
  bool hasNa = false;              ///< `na = x` was given
  double na = 0;
  NodeId node = kNoNode;  ///< dense: the feature input
  NodeId rows = kNoNode;  ///< id: the embedding-rows input
  NodeId emaRows = kNoNode;  ///< id: the rows of its table's EMA shadow (a state input)
  std::string table;      ///< id: the table that embeds it
  SourceLoc embedLoc;
};

struct LabelInfo {
  const Ident* ident;
  NodeId node = kNoNode;
  int64_t batch = kBatchDim;
};

struct TableInfo {
  const TableDecl* decl = nullptr;
  int64_t rows = 0, dim = 0;
  rt::InitSpec init{"uniform", 0.05};
  bool dynamic = false;  ///< rows allocated when first touched (rt::TableSpec::dynamic)
  bool used = false;
  double emaDecay = -1;  ///< the decay of its EMA shadow; < 0: none
  SourceLoc emaLoc;
};

/// The result of evaluating an expression.
struct Value {
  /// Serving: a value that exists only in the serving (eval) graph (top_k).
  enum class Kind { Error, Tensor, Number, Table, Ids, Serving };
  Kind kind = Kind::Error;
  NodeId node = kNoNode;
  double number = 0;
  TableInfo* table = nullptr;
  InputInfo* input = nullptr;
  std::string name;  ///< the name it was read through ("" for temporaries)
  SourceLoc declLoc;

  static Value tensor(NodeId n) {
    Value v;
    v.kind = n == kNoNode ? Kind::Error : Kind::Tensor;
    v.node = n;
    return v;
  }
  static Value num(double x) {
    Value v;
    v.kind = Kind::Number;
    v.number = x;
    return v;
  }
  bool ok() const { return kind != Kind::Error; }
};

/// How the parameters created in a frame are made: one set per id (`by`),
/// reused from an earlier instance (`share`), or EMA shadows (`ema`).
struct ParamMode {
  InputInfo* by = nullptr;
  bool share = false, ema = false;
  double decay = 0.99;
};

/// The model body or one block instantiation.
struct Frame {
  const BlockDecl* block = nullptr;
  SourceLoc callLoc;
  std::map<std::string, Value> vars;
  ParamMode mode;
};

inline int64_t intConst(const Expr* e, int64_t dflt = 0) {
  double v;
  return e && constantValue(*e, v) ? (int64_t)v : dflt;
}

inline double numConst(const Expr* e, double dflt = 0) {
  double v;
  return e && constantValue(*e, v) ? v : dflt;
}

class GraphBuilder {
public:
  GraphBuilder(const Program& prog, const ModelDecl& model, GraphMode mode, DiagnosticEngine& diag)
      : prog_(prog), model_(model), mode_(mode), diag_(diag) {}

  bool build();
  BuiltModel take() { return {std::move(g_), std::move(plan_), std::move(stage_)}; }

  //===--------------------------------------------------------------------===//
  // What the builtin records (compiler/passes/builtins/) build with.
  //===--------------------------------------------------------------------===//

  GraphMode mode() const { return mode_; }
  Value eval(const Expr& e, const std::string& prefix);
  NodeId tensorOf(const Value& v, const Expr& e, const std::string& what);
  bool number(const Expr* e, const std::string& prefix, const std::string& what, double& out);
  bool width(const Expr* e, const std::string& prefix, const std::string& what, int64_t& out);
  bool probability(const Expr* e, const std::string& prefix, const std::string& what, double& out);
  InputInfo* routeArg(const Expr* e, const std::string& prefix);
  std::string nextName(const std::string& prefix, const std::string& callee);
  const Shape& shapeOf(NodeId id) const { return g_.node(id).shape; }
  void report(const SourceLoc& loc, const std::string& msg,
              std::vector<std::pair<SourceLoc, std::string>> notes = {});

  // Nodes (BuildGraph.cpp).
  /// Whether a value of `shape` can be counted in bytes at any batch size.
  static bool fitsAnyBatch(const Shape& shape);
  NodeId add(OpKind kind, std::vector<NodeId> in, Attrs attrs, const SourceLoc& loc,
             std::vector<const Value*> operands = {});
  NodeId scaleShift(NodeId x, double scale, double shift, const SourceLoc& loc);
  NodeId reshape(NodeId x, std::vector<int64_t> dims, const SourceLoc& loc);
  NodeId reduceAxes(OpKind kind, NodeId x, std::vector<int64_t> axes, bool keep,
                    const SourceLoc& loc);
  NodeId constant(double v, const SourceLoc& loc);
  /// The training progress in [0, 1] (an input, created on first use).
  NodeId progress(const SourceLoc& loc);

  // Compositions of primitive ops (BuildLayers.cpp).
  Value embed(const CallExpr& c, const Value& table, const Value& ids);
  NodeId dense(NodeId x, int64_t units, const std::string& name, const SourceLoc& loc,
               InputInfo* by = nullptr);
  NodeId factoredDense(NodeId x, NodeId w, const SourceLoc& loc);
  NodeId routedDense(NodeId x, int64_t in, int64_t units, const std::string& name,
                     const SourceLoc& loc, InputInfo& by);
  NodeId weight(const std::string& name, std::vector<int64_t> shape, rt::InitSpec init,
                const SourceLoc& loc, InputInfo* by, bool& perRow);
  NodeId idsOf(InputInfo& in, const SourceLoc& loc);
  NodeId oneHot(InputInfo& in, const SourceLoc& loc);
  NodeId rsqrt(NodeId v, double eps, const SourceLoc& loc);
  NodeId maskLike(NodeId mask, NodeId x, const SourceLoc& loc);
  NodeId softmax(NodeId x, NodeId mask, const SourceLoc& loc);
  NodeId stack(const std::vector<NodeId>& xs, const SourceLoc& loc);
  NodeId layerNorm(NodeId x, double eps, const std::string& name, const SourceLoc& loc);
  NodeId batchNorm(NodeId x, double momentum, double eps, const std::string& name,
                   const SourceLoc& loc, InputInfo* by = nullptr);
  NodeId runningMean(NodeId x, double decay, NodeId mask, const std::string& name,
                     const SourceLoc& loc);
  NodeId dropout(NodeId x, double p, const SourceLoc& loc);
  /// The BatchSlice input of input stream k (see ValueRole::BatchSlice).
  NodeId batchSlice(int stream);
  NodeId activation(NodeId x, const std::string& act, const SourceLoc& loc);
  NodeId bce(const Value& p, const Value& y, const Value* weight, bool logits,
             const SourceLoc& loc, const char* name, NodeId mask = kNoNode, bool mse = false);
  NodeId reduce(OpKind kind, NodeId x, const double* axis, const SourceLoc& axisLoc,
                const SourceLoc& loc);
  /// experts(block, n, args..., by = s): n instances of the block, stacked.
  Value experts(const CallExpr& c, const std::string& prefix);

private:
  // The pass driver (BuildDriver.cpp): declarations, results and plan.
  void indexDeclarations();
  /// Reads an input's type (id, ids, dense, bucketize) into `info`, loading
  /// a vocabulary file for its size (BuildInputs.cpp).
  void readInputType(const InputDecl& in, InputInfo& info);
  void bindResults();
  void markFrozen();
  void fillPlan();
  void addMetric(const MetricStmt& m);
  void checkMetricScore(rt::MetricSpec& spec, const std::vector<const Expr*>& args, bool ranking);
  void readTrainSettings(const TrainStmt& t);
  void readColumns(const ColumnsStmt& c);
  void readOptimizer(const Expr& e);

  // Statements and expressions (BuildGraph.cpp).
  Value evalTop(const Expr& e, const std::string& prefix);
  Value lookup(const std::string& name, const SourceLoc& loc);
  Value evalBinary(const BinaryExpr& b, const std::string& prefix);
  Value evalCall(const CallExpr& c, const std::string& prefix, bool wholeStatement);
  Value instantiate(const BlockDecl& b, std::vector<Value> args, const std::string& prefix,
                    const SourceLoc& callLoc, ParamMode mode);
  bool blockMode(const std::vector<const Expr*>& mods, const std::string& prefix,
                 std::string& instance, ParamMode& mode);
  bool evalBlockArgs(const CallExpr& c, const BlockDecl& b, const std::string& prefix,
                     size_t skip, std::vector<const Expr*>& mods, std::vector<Value>& args);
  Value evalBuiltin(const BuiltinRecord& record, const CallExpr& c, const std::string& prefix);

  // Internals of the nodes and layers (BuildGraph.cpp, BuildLayers.cpp).
  NodeId emaRows(const CallExpr& c, InputInfo& in, TableInfo& tb,
                 const std::vector<int64_t>& shape, double decay);
  NodeId poolWords(NodeId rows, InputInfo& in, const SourceLoc& loc);
  NodeId maskedMean(NodeId perRow, NodeId mask, const SourceLoc& loc);
  NodeId stateInput(rt::StateSpec spec, Attrs extra, const SourceLoc& loc);
  NodeId param(const std::string& name, std::vector<int64_t> shape, rt::InitSpec init,
               const SourceLoc& loc);
  NodeId inputNode(ValueRole role, const std::string& name, std::vector<int64_t> shape,
                   const SourceLoc& loc);

  const Program& prog_;
  const ModelDecl& model_;
  GraphMode mode_;
  DiagnosticEngine& diag_;
  Graph g_;
  rt::ModelPlan plan_;

  std::vector<std::string> inputOrder_, tableOrder_;
  std::map<std::string, InputInfo> inputs_;
  std::map<std::string, LabelInfo> labels_;
  std::map<std::string, TableInfo> tables_;
  std::map<std::string, const BlockDecl*> blocks_;
  std::vector<Frame*> frames_;  ///< back() is the innermost
  Frame modelFrame_;
  struct Loss {
    const LossStmt* stmt;
    Value value;
  };
  std::vector<Loss> losses_;

  std::map<std::string, int> counters_;
  std::set<std::string> paramNames_;
  std::map<std::string, NodeId> paramNodes_, stateNodes_;
  StageSpec stage_;
  NodeId progress_ = kNoNode;
  std::set<std::pair<std::string, std::string>> reported_;
  NodeId seed_ = kNoNode;
  std::map<int, NodeId> batchSlices_;  // per input stream
  int64_t salt_ = 0;
  bool failed_ = false;
};

} // namespace recc::buildgraph
