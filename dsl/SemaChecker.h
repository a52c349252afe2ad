// SemaChecker: the state of Sema (symbols, scopes, the checker class), shared
// by Sema.cpp (declarations, models, names, the program) and SemaExpr.cpp
// (expressions, builtin calls and argument checks). Internal to dsl/; the
// public entry point is Sema.h.
#pragma once

#include "dsl/Sema.h"

#include "dsl/BuiltinCheck.h"
#include "dsl/Builtins.h"
#include "dsl/Suggest.h"

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>
#include <optional>

namespace recc::sema {

using namespace ast;

/// What an expression denotes, as far as Sema can tell. Any is a block
/// parameter (known only when the block is instantiated); Error suppresses
/// follow-on diagnostics.
enum class Ty { Error, Any, Tensor, Number, Table, Ids, Block, List, String };

struct Symbol {
  enum class Kind { DenseInput, IdInput, IdsInput, Label, Table, Block, Value, Param };
  Kind kind;
  SourceLoc loc;
  Ty valueTy = Ty::Tensor;  ///< Kind::Value: Tensor or Number
  int64_t vocab = 0;        ///< id inputs
  int64_t rows = 0;         ///< tables (0 when invalid)
  const BlockDecl* block = nullptr;
};

inline Ty tyOf(const Symbol& s) {
  switch (s.kind) {
  case Symbol::Kind::DenseInput:
  case Symbol::Kind::Label: return Ty::Tensor;
  case Symbol::Kind::IdInput:
  case Symbol::Kind::IdsInput: return Ty::Ids;
  case Symbol::Kind::Table: return Ty::Table;
  case Symbol::Kind::Block: return Ty::Block;
  case Symbol::Kind::Value: return s.valueTy;
  case Symbol::Kind::Param: return Ty::Any;
  }
  return Ty::Error;
}

inline const char* kindNoun(const Symbol& s) {
  switch (s.kind) {
  case Symbol::Kind::DenseInput: return "a dense input";
  case Symbol::Kind::IdInput: return "an id input";
  case Symbol::Kind::IdsInput: return "a multi-valued id input";
  case Symbol::Kind::Label: return "a label";
  case Symbol::Kind::Table: return "a table";
  case Symbol::Kind::Block: return "a block";
  case Symbol::Kind::Value: return s.valueTy == Ty::Number ? "a number" : "a tensor";
  case Symbol::Kind::Param: return "a block parameter";
  }
  return "a name";
}

inline const char* tyNoun(Ty t) {
  switch (t) {
  case Ty::Tensor: return "a tensor";
  case Ty::Number: return "a number";
  case Ty::Table: return "a table";
  case Ty::Ids: return "an id input";
  case Ty::Block: return "a block";
  case Ty::List: return "a list";
  case Ty::String: return "a string";
  default: return "a value";
  }
}

/// A name space for one model or block body.
struct Scope {
  const Scope* outer = nullptr;  ///< the model scope of a model-level block
  const BlockDecl* block = nullptr;
  std::map<std::string, Symbol> decls;       ///< inputs, labels, tables, blocks; block params
  std::map<std::string, Symbol> values;      ///< assignments seen so far
  std::map<std::string, SourceLoc> assigns;  ///< every assignment in the body
};

struct Lookup {
  enum Status { Found, NotVisible, BeforeAssign, Unknown } status = Unknown;
  const Symbol* sym = nullptr;
};

inline const char* stmtNoun(const Stmt& s) {
  switch (s.kind) {
  case Stmt::Kind::Model: return "a 'model'";
  case Stmt::Kind::Input: return "an 'input' declaration";
  case Stmt::Kind::Label: return "a 'label' declaration";
  case Stmt::Kind::Table: return "a 'table' declaration";
  case Stmt::Kind::Block: return "a 'block'";
  case Stmt::Kind::Assign: return "an assignment";
  case Stmt::Kind::Return: return "'return'";
  case Stmt::Kind::Loss: return "a 'loss'";
  case Stmt::Kind::Output: return "an 'output' statement";
  case Stmt::Kind::Metric: return "a 'metric'";
  case Stmt::Kind::Train: return "a 'train' block";
  case Stmt::Kind::Stream: return "a 'stream' block";
  case Stmt::Kind::Columns: return "a 'columns' list";
  }
  return "a statement";
}

class Sema {
  friend class BuiltinCheck;  // the records' checks use the argument checks below

public:
  explicit Sema(DiagnosticEngine& diag) : diag_(diag) {}
  bool run(const Program& prog);

private:
  // Declarations.
  bool declare(std::map<std::string, Symbol>& into, const Ident& id, Symbol sym,
               const Scope* scope);
  std::optional<SourceLoc> previousDefinition(const std::string& name, const Scope* scope) const;
  void checkTable(const TableDecl& t, Symbol& sym);
  // Inputs (SemaInput.cpp).
  void checkInput(const InputDecl& in, std::map<std::string, Symbol>& into, const Scope* scope);
  void checkIdType(const BuiltinRecord& sig, const std::vector<const Expr*>& args,
                   const SourceLoc& typeLoc, Symbol& sym);
  void checkDenseType(const std::vector<const Expr*>& args);
  void checkBucketize(const std::vector<const Expr*>& args, Symbol& sym);
  void checkIdNa(const Expr* na, const Symbol& sym);
  void checkBlock(const BlockDecl& b, const Scope* outer);
  void checkModel(const ModelDecl& m);
  void collectAssigns(const std::vector<StmtPtr>& body, Scope& scope);

  // Statements of a model.
  void checkOutputs(const ModelDecl& m, Scope& scope, std::map<std::string, SourceLoc>& outs);
  void checkMetric(const MetricStmt& m, Scope& scope,
                   const std::map<std::string, SourceLoc>& outs);
  void checkGaucReduce(const Expr& e);
  void checkTrain(const TrainStmt& t, const ModelDecl& m, Scope& scope);
  void checkStream(const StreamDecl& st, Scope& scope);
  Ty checkBlockCall(const CallExpr& c, const BlockDecl& b, size_t skip, Scope& scope);
  Ty checkExperts(const CallExpr& c, Scope& scope);
  bool requireIds(const Expr& e, Ty t, const std::string& what);
  void checkOptimizer(const Expr& e);

  // Expressions.
  Lookup lookup(const std::string& name, const Scope& scope) const;
  const Symbol* resolve(const std::string& name, const SourceLoc& loc, const Scope& scope);
  Ty checkExpr(const Expr& e, Scope& scope);
  Ty checkCall(const CallExpr& c, Scope& scope);
  Ty checkBuiltin(const BuiltinRecord& record, const CallExpr& c, Scope& scope);
  void checkEmbed(const CallExpr& c, const Expr& table, const Expr& ids, Scope& scope);
  const BuiltinRecord* contextCall(const Expr& e, BuiltinContext ctx, const char* what,
                                std::vector<const Expr*>& args);
  std::vector<std::string> visibleNames(const Scope& scope) const;

  // Argument checks.
  bool requireTensor(const Expr& e, Ty t, const std::string& what, bool allowNumber = false);
  /// Known: `out` holds the value. Deferred: the number comes through a block
  /// parameter or a number-valued name, and BuildGraph checks it.
  Const constant(const Expr* e, const std::string& what, double& out);
  bool constNumber(const Expr* e, const std::string& what, double& out) {
    return constant(e, what, out) == Const::Known;
  }
  bool constInt(const Expr* e, int64_t lo, int64_t hi, const std::string& what, int64_t& out);
  bool constRange(const Expr* e, double lo, double hi, bool hiOpen, const std::string& what);
  std::string describe(const Expr& e, Ty t, const Scope* scope) const;

  void error(const SourceLoc& loc, const std::string& msg) { diag_.error(loc, msg); }
  void note(const SourceLoc& loc, const std::string& msg) { diag_.note(loc, msg); }

  DiagnosticEngine& diag_;
  std::map<std::string, Symbol> globals_;
  std::map<std::string, SourceLoc> models_;  ///< every model of the file (for `init`)
  Scope* current_ = nullptr;  ///< for describe()
  bool deferNames_ = false;   ///< builtin arguments may be names of numbers
};

} // namespace recc::sema
