// AST: the syntax tree of a .rec file, as the parser builds it and before any
// name is resolved. A Program is a list of top-level declarations (models,
// blocks, tables); a model or block holds a list of statements. Every node
// carries the SourceLoc of its first token (binary expressions: the operator),
// so that Sema and BuildGraph can point at the user's source.
//
// Nodes use a kind tag and dynCast<> in the style of LLVM RTTI (as the MLIR Toy
// tutorial's AST does) instead of virtual visitors.
#pragma once

#include "dsl/SourceLoc.h"

#include <memory>
#include <string>
#include <vector>

namespace recc::ast {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

struct Expr {
  enum class Kind { Number, String, Name, Call, Binary, Neg, List };
  Expr(Kind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
  virtual ~Expr() = default;
  const Kind kind;
  SourceLoc loc;
  int depth = 1;  ///< height of the tree below; the parser bounds it
};
using ExprPtr = std::unique_ptr<Expr>;

/// `0.5`, `100000`; `text` keeps the spelling for messages and printing.
struct NumberExpr : Expr {
  static constexpr Kind kKind = Kind::Number;
  NumberExpr(SourceLoc l, double v, std::string t)
      : Expr(kKind, std::move(l)), value(v), text(std::move(t)) {}
  double value;
  std::string text;
};

/// `"uid"`: only used for column names and reserved for future settings.
struct StringExpr : Expr {
  static constexpr Kind kKind = Kind::String;
  StringExpr(SourceLoc l, std::string v) : Expr(kKind, std::move(l)), value(std::move(v)) {}
  std::string value;
};

/// A reference to a declared name: an input, label, table, value or block.
struct NameExpr : Expr {
  static constexpr Kind kKind = Kind::Name;
  NameExpr(SourceLoc l, std::string n) : Expr(kKind, std::move(l)), name(std::move(n)) {}
  std::string name;
};

/// One call argument: positional when `keyword` is empty, else `keyword = value`.
struct Arg {
  std::string keyword;
  SourceLoc keywordLoc;
  ExprPtr value;
};

/// `callee(args)`: a builtin (dense, bce, ...) or a block instantiation.
struct CallExpr : Expr {
  static constexpr Kind kKind = Kind::Call;
  CallExpr(SourceLoc l, std::string c) : Expr(kKind, std::move(l)), callee(std::move(c)) {}
  std::string callee;
  std::vector<Arg> args;
};

/// `lhs op rhs` with op one of + - * /; loc is the operator's.
struct BinaryExpr : Expr {
  static constexpr Kind kKind = Kind::Binary;
  BinaryExpr(SourceLoc l, char o, ExprPtr a, ExprPtr b)
      : Expr(kKind, std::move(l)), op(o), lhs(std::move(a)), rhs(std::move(b)) {}
  char op;
  ExprPtr lhs, rhs;
};

/// `-operand`.
struct NegExpr : Expr {
  static constexpr Kind kKind = Kind::Neg;
  NegExpr(SourceLoc l, ExprPtr e) : Expr(kKind, std::move(l)), operand(std::move(e)) {}
  ExprPtr operand;
};

/// `[512, 256, 128]`: layer widths and other lists of constants.
struct ListExpr : Expr {
  static constexpr Kind kKind = Kind::List;
  explicit ListExpr(SourceLoc l) : Expr(kKind, std::move(l)) {}
  std::vector<ExprPtr> items;
};

//===----------------------------------------------------------------------===//
// Statements and declarations
//===----------------------------------------------------------------------===//

struct Stmt {
  enum class Kind {
    Model, Input, Label, Table, Block, Assign, Return, Loss, Output, Metric, Train, Stream,
    Columns
  };
  Stmt(Kind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
  virtual ~Stmt() = default;
  const Kind kind;
  SourceLoc loc;  ///< the statement's first token
};
using StmtPtr = std::unique_ptr<Stmt>;

/// A declared name with its location, e.g. an output list entry or a block
/// parameter. For inputs and labels, `column` is the data column (`from "c"`),
/// empty when it defaults to the name.
struct Ident {
  std::string name;
  SourceLoc loc;
  std::string column;
  SourceLoc columnLoc;
};

/// `model NAME { stmt* }`
struct ModelDecl : Stmt {
  static constexpr Kind kKind = Kind::Model;
  explicit ModelDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  std::vector<StmtPtr> body;
};

/// `input a, b [from "col"] : TYPE` where TYPE is `id(V)`, `ids(V, len = L)`,
/// `dense` or `dense(TRANSFORM)`; the type is kept as a Name or Call expression
/// and validated by Sema.
struct InputDecl : Stmt {
  static constexpr Kind kKind = Kind::Input;
  explicit InputDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  std::vector<Ident> names;
  ExprPtr type;
};

/// `label click, buy [from "col"]`
struct LabelDecl : Stmt {
  static constexpr Kind kKind = Kind::Label;
  explicit LabelDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  std::vector<Ident> names;
};

/// `table NAME[ROWS, DIM] [init uniform(0.05) | normal(0.01) | zeros] [dynamic | dense]`
struct TableDecl : Stmt {
  static constexpr Kind kKind = Kind::Table;
  explicit TableDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  ExprPtr rows, dim;
  ExprPtr init;  ///< Name or Call; null for the default uniform(0.05)
  /// The storage the declaration asks for: "dynamic", "dense", or "" (chosen
  /// by size, rt::dynamicByDefault).
  std::string storage;
};

/// `block NAME(p, q) { stmt* return expr }`
struct BlockDecl : Stmt {
  static constexpr Kind kKind = Kind::Block;
  explicit BlockDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  std::vector<Ident> params;
  std::vector<StmtPtr> body;
};

/// `NAME = expr`
struct AssignStmt : Stmt {
  static constexpr Kind kKind = Kind::Assign;
  explicit AssignStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  ExprPtr value;
};

/// `return expr` (blocks only)
struct ReturnStmt : Stmt {
  static constexpr Kind kKind = Kind::Return;
  explicit ReturnStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  ExprPtr value;
};

/// `loss NAME = expr [weight W]`
struct LossStmt : Stmt {
  static constexpr Kind kKind = Kind::Loss;
  explicit LossStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  ExprPtr value;
  ExprPtr weight;  ///< null means 1
};

/// `output a, b, c`
struct OutputStmt : Stmt {
  static constexpr Kind kKind = Kind::Output;
  explicit OutputStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  std::vector<Ident> names;
};

/// `metric NAME = auc(score, label) [where LABEL]`
struct MetricStmt : Stmt {
  static constexpr Kind kKind = Kind::Metric;
  explicit MetricStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  ExprPtr value;
  Ident where;  ///< empty name when there is no filter
};

/// One `name = value` inside `train { ... }`.
struct Setting {
  Ident name;
  ExprPtr value;
};

/// `train { optimizer = adam(lr = 0.0005)  batch = 1000  epochs = 1  seed = 7 }`
struct TrainStmt : Stmt {
  static constexpr Kind kKind = Kind::Train;
  explicit TrainStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  std::vector<Setting> settings;
};

/// `stream NAME [batch = N] { input ... label ... }`: inputs and labels read
/// from a second input stream, whose batches of N rows (default: the train
/// batch) are drawn separately (DAMCAR's target batch).
struct StreamDecl : Stmt {
  static constexpr Kind kKind = Kind::Stream;
  explicit StreamDecl(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  Ident name;
  ExprPtr batch;  ///< null: the train batch
  std::vector<StmtPtr> body;
};

/// One entry of a column list: a column name, or a range `I1..I13` of names
/// that share a prefix and end in increasing numbers (`last` is then set).
struct ColumnRange {
  Ident first;
  Ident last;  ///< empty name: a single column
};

/// `columns [label, I1..I13, C1..C26] [delimiter = tab | comma]`: the data
/// files have no header row; their fields are these columns, in order.
struct ColumnsStmt : Stmt {
  static constexpr Kind kKind = Kind::Columns;
  explicit ColumnsStmt(SourceLoc l) : Stmt(kKind, std::move(l)) {}
  std::vector<ColumnRange> items;
  Ident delimiter;  ///< empty name: by the file's extension, else sniffed
};

/// A whole file: top-level models, blocks and tables in source order.
struct Program {
  std::string file;
  std::vector<StmtPtr> decls;

  /// The model called `name`, or the first model when `name` is empty.
  const ModelDecl* findModel(const std::string& name) const;
};

/// LLVM-style checked downcasts on the kind tag; null when the kind differs.
template <typename T, typename B>
const T* dynCast(const B* node) {
  return node && node->kind == T::kKind ? static_cast<const T*>(node) : nullptr;
}
template <typename T, typename B>
const T* dynCast(const std::unique_ptr<B>& node) {
  return dynCast<T>(node.get());
}

} // namespace recc::ast
