// Parser: recursive descent over the token stream, one parse* method per
// grammar production (the production is written above each method in
// Parser.cpp). On a syntax error it reports `expected X, found Y`, drops the
// statement and resumes at the next statement, so one run reports several
// errors; the AST it returns holds only statements that parsed completely.
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"
#include "dsl/Token.h"

#include <memory>
#include <string>
#include <vector>

namespace recc {

/// Parses `text` (the contents of `file`) into a Program and registers the text
/// with `diag` for caret printing. Never returns null and never throws on bad
/// input: syntax errors go to `diag`, and the returned Program then holds the
/// statements that did parse (callers should stop when diag.hasErrors()).
std::unique_ptr<ast::Program> parseProgram(const std::string& file, const std::string& text,
                                           DiagnosticEngine& diag);

class Parser {
public:
  Parser(std::string file, std::vector<Token> tokens, DiagnosticEngine& diag);
  std::unique_ptr<ast::Program> parseProgram();

  /// Expressions nested deeper than this are rejected (keeps every recursive
  /// walk over the AST far from the stack limit).
  static constexpr int kMaxDepth = 200;
  /// Parsing stops after this many syntax errors.
  static constexpr int kMaxErrors = 25;

private:
  // Statements.
  ast::StmtPtr parseStatement();
  ast::StmtPtr parseModel();
  ast::StmtPtr parseInput();
  ast::StmtPtr parseLabel();
  ast::StmtPtr parseTable();
  ast::StmtPtr parseBlock();
  ast::StmtPtr parseReturn();
  ast::StmtPtr parseLoss();
  ast::StmtPtr parseOutput();
  ast::StmtPtr parseMetric();
  ast::StmtPtr parseTrain();
  ast::StmtPtr parseAssign();
  ast::StmtPtr parseStream();
  ast::StmtPtr parseColumns();
  bool parseColumnRange(ast::ColumnRange& out);
  bool parseBody(std::vector<ast::StmtPtr>& body);
  bool parseColumnNames(std::vector<ast::Ident>& names, const char* what);

  // Expressions.
  ast::ExprPtr parseExpr();
  ast::ExprPtr parseAdditive();
  ast::ExprPtr parseMultiplicative();
  ast::ExprPtr parseLeftAssoc(Tok opA, Tok opB, ast::ExprPtr (Parser::*operand)());
  ast::ExprPtr parseUnary();
  ast::ExprPtr parsePrimary();
  ast::ExprPtr parseCallArgs(ast::ExprPtr callee);
  ast::ExprPtr parseList();

  // Tokens.
  const Token& cur() const { return toks_[pos_]; }
  const Token& peekTok(size_t ahead = 1) const;
  Token consume();
  bool consumeIf(Tok kind);
  bool expect(Tok kind, const char* what = nullptr);
  bool expectIdent(ast::Ident& out, const char* what);
  bool atContextual(const char* word) const;

  // Errors and recovery.
  void errorExpected(const char* what);
  void error(const SourceLoc& loc, const std::string& message);
  /// Attaches a note to the last error, unless that error was suppressed.
  void note(const SourceLoc& loc, const std::string& message);
  bool tooManyErrors() const;
  bool tooDeep(const SourceLoc& loc, int depth);
  bool atStatementStart() const;
  void synchronize();

  std::string file_;
  std::vector<Token> toks_;
  DiagnosticEngine& diag_;
  size_t pos_ = 0;
  int errors_ = 0;
  int openGroups_ = 0;  ///< '(' and '[' consumed and not yet closed
  int recursion_ = 0;   ///< current expression recursion depth
  bool lastErrorShown_ = false;
};

} // namespace recc
