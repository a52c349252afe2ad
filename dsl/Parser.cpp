// Parser: recursive descent for the .rec language. The grammar, one production
// per parse* method:
//
//   program   := stmt* EOF                  (Sema checks what may go where)
//   stmt      := model | input | label | table | block | return
//              | loss | output | metric | train | stream | columns | assign
//   expr      := additive
//
// There are no statement terminators: a statement ends where its expression
// cannot continue. Error recovery skips to the next token that can begin a
// statement (a statement keyword, `NAME =`, or the `}` closing the body).
#include "dsl/Parser.h"

#include "dsl/Lexer.h"
#include "dsl/Suggest.h"

#include <algorithm>

namespace recc {

using namespace ast;

std::unique_ptr<Program> parseProgram(const std::string& file, const std::string& text,
                                      DiagnosticEngine& diag) {
  diag.addSource(file, text);
  Lexer lexer(file, text, diag);
  Parser parser(file, lexer.lexAll(), diag);
  return parser.parseProgram();
}

Parser::Parser(std::string file, std::vector<Token> tokens, DiagnosticEngine& diag)
    : file_(std::move(file)), toks_(std::move(tokens)), diag_(diag) {
  if (toks_.empty() || !toks_.back().is(Tok::Eof)) {
    Token eof;
    eof.loc.file = file_;
    toks_.push_back(eof);
  }
}

//===----------------------------------------------------------------------===//
// Tokens and errors
//===----------------------------------------------------------------------===//

const Token& Parser::peekTok(size_t ahead) const {
  return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
}

Token Parser::consume() {
  Token t = cur();
  if (t.is(Tok::LParen) || t.is(Tok::LBracket)) ++openGroups_;
  if ((t.is(Tok::RParen) || t.is(Tok::RBracket)) && openGroups_ > 0) --openGroups_;
  if (!t.is(Tok::Eof)) ++pos_;
  return t;
}

bool Parser::consumeIf(Tok kind) {
  if (!cur().is(kind)) return false;
  consume();
  return true;
}

bool Parser::expect(Tok kind, const char* what) {
  if (consumeIf(kind)) return true;
  errorExpected(what ? what : tokKindName(kind));
  return false;
}

bool Parser::expectIdent(Ident& out, const char* what) {
  if (!cur().is(Tok::Ident)) {
    errorExpected(what);
    return false;
  }
  out.name = cur().text;
  out.loc = cur().loc;
  consume();
  return true;
}

/// A contextual keyword (`where`, `weight`, `init`, `from`) is one when it is
/// not the target of an assignment: `weight 2` is a clause, `weight = 2` a
/// statement.
bool Parser::atContextual(const char* word) const {
  return cur().isIdent(word) && !peekTok().is(Tok::Equal);
}

void Parser::error(const SourceLoc& loc, const std::string& message) {
  lastErrorShown_ = !tooManyErrors();
  if (!lastErrorShown_) return;
  ++errors_;
  if (tooManyErrors())
    diag_.error(loc, message + " (too many errors; stopping)");
  else
    diag_.error(loc, message);
}

void Parser::note(const SourceLoc& loc, const std::string& message) {
  if (lastErrorShown_) diag_.note(loc, message);
}

bool Parser::tooManyErrors() const { return errors_ >= kMaxErrors; }

void Parser::errorExpected(const char* what) {
  error(cur().loc, std::string("expected ") + what + ", found " + describeToken(cur()));
}

bool Parser::tooDeep(const SourceLoc& loc, int depth) {
  if (depth <= kMaxDepth) return false;
  error(loc, "expression is nested too deeply (more than " + std::to_string(kMaxDepth) +
                 " levels)");
  return true;
}

bool Parser::atStatementStart() const {
  return isStatementKeyword(cur().kind) ||
         (cur().is(Tok::Ident) && peekTok().is(Tok::Equal));
}

/// Skips to where the next statement can start: a statement keyword, `NAME =`
/// outside any open bracket (or first on its line), a token starting a line
/// outside brackets, or the `}` that closes the current body. Brackets opened by the failed statement are counted so that
/// `f(a = 1, b = 2` does not resume at `b = 2`.
void Parser::synchronize() {
  int groups = openGroups_, braces = 0;
  openGroups_ = 0;
  for (;; consume()) {
    const Token& t = cur();
    if (t.is(Tok::Eof)) return;
    if (braces == 0) {
      if (t.is(Tok::RBrace) || isStatementKeyword(t.kind)) break;
      if (t.is(Tok::Ident) && peekTok().is(Tok::Equal) && (groups == 0 || t.firstOnLine))
        break;
      // Statements are usually one per line: outside brackets, a token that
      // starts a line is a good guess for the next statement.
      if (groups == 0 && t.firstOnLine && !t.is(Tok::RParen) && !t.is(Tok::RBracket)) break;
    }
    if (t.is(Tok::LParen) || t.is(Tok::LBracket)) ++groups;
    if ((t.is(Tok::RParen) || t.is(Tok::RBracket)) && groups > 0) --groups;
    if (t.is(Tok::LBrace)) ++braces;
    if (t.is(Tok::RBrace)) --braces;
  }
  openGroups_ = 0;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

// program := stmt* EOF
std::unique_ptr<Program> Parser::parseProgram() {
  auto prog = std::make_unique<Program>();
  prog->file = file_;
  while (!cur().is(Tok::Eof) && !tooManyErrors()) {
    if (cur().is(Tok::RBrace)) {
      error(cur().loc, "unmatched '}'");
      consume();
      continue;
    }
    size_t start = pos_;
    if (auto s = parseStatement()) {
      prog->decls.push_back(std::move(s));
      continue;
    }
    if (pos_ == start) consume();  // always make progress
    synchronize();
  }
  return prog;
}

// stmt := model | input | label | table | block | return | loss | output
//       | metric | train | assign
StmtPtr Parser::parseStatement() {
  switch (cur().kind) {
  case Tok::KwModel: return parseModel();
  case Tok::KwInput: return parseInput();
  case Tok::KwLabel: return parseLabel();
  case Tok::KwTable: return parseTable();
  case Tok::KwBlock: return parseBlock();
  case Tok::KwReturn: return parseReturn();
  case Tok::KwLoss: return parseLoss();
  case Tok::KwOutput: return parseOutput();
  case Tok::KwMetric: return parseMetric();
  case Tok::KwTrain: return parseTrain();
  case Tok::Ident: {
    if (peekTok().is(Tok::Equal)) return parseAssign();
    if (cur().isIdent("stream") && peekTok().is(Tok::Ident) &&
        (peekTok(2).is(Tok::LBrace) || peekTok(2).isIdent("batch")))
      return parseStream();
    if (cur().isIdent("columns") && peekTok().is(Tok::LBracket)) return parseColumns();
    static const std::vector<std::string> kKeywords = {
        "model", "input", "label", "table", "block", "return",
        "loss", "output", "metric", "train"};
    std::string hint = closestMatch(cur().text, kKeywords);
    if (!hint.empty())
      error(cur().loc, "unknown statement '" + cur().text + "'; did you mean '" + hint + "'?");
    else
      error(cur().loc, "expected '=' after '" + cur().text + "'");
    return nullptr;
  }
  default:
    errorExpected("a statement");
    return nullptr;
  }
}

// body := '{' stmt* '}'
bool Parser::parseBody(std::vector<StmtPtr>& body) {
  SourceLoc open = cur().loc;
  if (!expect(Tok::LBrace)) return false;
  while (!cur().is(Tok::RBrace) && !cur().is(Tok::Eof) && !tooManyErrors()) {
    size_t start = pos_;
    if (auto s = parseStatement()) {
      body.push_back(std::move(s));
      continue;
    }
    if (pos_ == start) consume();  // always make progress
    synchronize();
  }
  if (consumeIf(Tok::RBrace)) return true;
  errorExpected("'}'");
  note(open, "to match this '{'");
  return false;
}

// model := 'model' IDENT body
StmtPtr Parser::parseModel() {
  auto m = std::make_unique<ModelDecl>(consume().loc);
  if (!expectIdent(m->name, "a model name")) return nullptr;
  parseBody(m->body);  // a model with an unclosed body is kept: its errors are reported
  return m;
}

// names := IDENT ['from' STRING] (',' IDENT ['from' STRING])*
bool Parser::parseColumnNames(std::vector<Ident>& names, const char* what) {
  do {
    Ident n;
    if (!expectIdent(n, what)) return false;
    if (atContextual("from")) {
      consume();
      if (!cur().is(Tok::String)) {
        errorExpected("a column name string after 'from'");
        return false;
      }
      n.column = cur().text;
      n.columnLoc = consume().loc;
    }
    names.push_back(std::move(n));
  } while (consumeIf(Tok::Comma));
  return true;
}

// input := 'input' names ':' type
// type  := IDENT ['(' args ')']          e.g. id(100000), ids(5000, len = 20), dense(tanh_zscore)
StmtPtr Parser::parseInput() {
  auto in = std::make_unique<InputDecl>(consume().loc);
  if (!parseColumnNames(in->names, "an input name")) return nullptr;
  if (!expect(Tok::Colon, "':' and an input type")) return nullptr;
  if (!cur().is(Tok::Ident)) {
    errorExpected("an input type ('id', 'ids' or 'dense')");
    return nullptr;
  }
  if (!(in->type = parsePrimary())) return nullptr;
  return in;
}

// label := 'label' names
StmtPtr Parser::parseLabel() {
  auto l = std::make_unique<LabelDecl>(consume().loc);
  if (!parseColumnNames(l->names, "a label name")) return nullptr;
  return l;
}

// table := 'table' IDENT '[' expr ',' expr ']' ['init' IDENT ['(' args ')']]
//          ['dynamic' | 'dense']
StmtPtr Parser::parseTable() {
  auto t = std::make_unique<TableDecl>(consume().loc);
  if (!expectIdent(t->name, "a table name")) return nullptr;
  if (!expect(Tok::LBracket, "'[' and the table's rows and dimension")) return nullptr;
  if (!(t->rows = parseExpr())) return nullptr;
  if (!expect(Tok::Comma, "',' between the table's rows and dimension")) return nullptr;
  if (!(t->dim = parseExpr())) return nullptr;
  if (!expect(Tok::RBracket)) return nullptr;
  if (atContextual("init")) {
    consume();
    if (!cur().is(Tok::Ident)) {
      errorExpected("an initializer ('uniform', 'normal' or 'zeros')");
      return nullptr;
    }
    if (!(t->init = parsePrimary())) return nullptr;
  }
  // Storage words are contextual: `dense = ...` on the next line assigns.
  if ((atContextual("dynamic") || atContextual("dense")) && !peekTok().is(Tok::Equal))
    t->storage = consume().text;
  return t;
}

// block := 'block' IDENT '(' [IDENT (',' IDENT)*] ')' body
StmtPtr Parser::parseBlock() {
  auto b = std::make_unique<BlockDecl>(consume().loc);
  if (!expectIdent(b->name, "a block name")) return nullptr;
  if (!expect(Tok::LParen, "'(' and the block's parameters")) return nullptr;
  if (!cur().is(Tok::RParen)) {
    do {
      Ident p;
      if (!expectIdent(p, "a parameter name")) return nullptr;
      b->params.push_back(std::move(p));
    } while (consumeIf(Tok::Comma));
  }
  if (!expect(Tok::RParen, "',' or ')'")) return nullptr;
  parseBody(b->body);
  return b;
}

// return := 'return' expr
StmtPtr Parser::parseReturn() {
  auto r = std::make_unique<ReturnStmt>(consume().loc);
  if (!(r->value = parseExpr())) return nullptr;
  return r;
}

// loss := 'loss' IDENT '=' expr ['weight' expr]
StmtPtr Parser::parseLoss() {
  auto l = std::make_unique<LossStmt>(consume().loc);
  if (!expectIdent(l->name, "a loss name")) return nullptr;
  if (!expect(Tok::Equal)) return nullptr;
  if (!(l->value = parseExpr())) return nullptr;
  if (atContextual("weight")) {
    consume();
    if (!(l->weight = parseExpr())) return nullptr;
  }
  return l;
}

// output := 'output' IDENT (',' IDENT)*
StmtPtr Parser::parseOutput() {
  auto o = std::make_unique<OutputStmt>(consume().loc);
  do {
    Ident n;
    if (!expectIdent(n, "an output name")) return nullptr;
    o->names.push_back(std::move(n));
  } while (consumeIf(Tok::Comma));
  return o;
}

// metric := 'metric' IDENT '=' expr ['where' IDENT]
StmtPtr Parser::parseMetric() {
  auto m = std::make_unique<MetricStmt>(consume().loc);
  if (!expectIdent(m->name, "a metric name")) return nullptr;
  if (!expect(Tok::Equal)) return nullptr;
  if (!(m->value = parseExpr())) return nullptr;
  if (atContextual("where")) {
    consume();
    if (!expectIdent(m->where, "a label name after 'where'")) return nullptr;
  }
  return m;
}

// train   := 'train' '{' setting* '}'
// setting := IDENT '=' expr
StmtPtr Parser::parseTrain() {
  auto t = std::make_unique<TrainStmt>(consume().loc);
  SourceLoc open = cur().loc;
  if (!expect(Tok::LBrace, "'{' after 'train'")) return nullptr;
  while (!cur().is(Tok::RBrace) && !cur().is(Tok::Eof) && !isStatementKeyword(cur().kind) &&
         !tooManyErrors()) {
    size_t start = pos_;
    Setting s;
    if (expectIdent(s.name, "a setting name ('optimizer', 'batch', 'epochs' or 'seed')") &&
        expect(Tok::Equal) && (s.value = parseExpr())) {
      t->settings.push_back(std::move(s));
      continue;
    }
    if (pos_ == start) consume();  // always make progress
    synchronize();
  }
  if (consumeIf(Tok::RBrace)) return t;
  errorExpected("'}'");
  note(open, "to match this '{'");
  return nullptr;
}

// stream := 'stream' IDENT ['batch' '=' expr] body
//           ('stream' and 'batch' are contextual keywords)
StmtPtr Parser::parseStream() {
  auto s = std::make_unique<StreamDecl>(consume().loc);
  expectIdent(s->name, "a stream name");
  if (cur().isIdent("batch")) {
    consume();
    if (!expect(Tok::Equal, "'=' after 'batch'") || !(s->batch = parseExpr())) return nullptr;
  }
  parseBody(s->body);
  return s;
}

// columns := 'columns' '[' range (',' range)* ']' ['delimiter' '=' IDENT]
// range   := IDENT ['..' IDENT]
//           ('columns' and 'delimiter' are contextual keywords)
StmtPtr Parser::parseColumns() {
  auto c = std::make_unique<ColumnsStmt>(consume().loc);
  SourceLoc open = consume().loc;  // '['
  do {
    ColumnRange range;
    if (!parseColumnRange(range)) return nullptr;
    c->items.push_back(std::move(range));
  } while (consumeIf(Tok::Comma));
  if (!consumeIf(Tok::RBracket)) {
    errorExpected("',' or ']'");
    note(open, "to match this '['");
    return nullptr;
  }
  if (cur().isIdent("delimiter") && peekTok().is(Tok::Equal)) {
    consume();
    consume();  // '='
    if (!expectIdent(c->delimiter, "a delimiter ('tab' or 'comma')")) return nullptr;
  }
  return c;
}

bool Parser::parseColumnRange(ColumnRange& out) {
  if (!expectIdent(out.first, "a column name")) return false;
  if (!consumeIf(Tok::DotDot)) return true;
  return expectIdent(out.last, "the last column of the range");
}

// assign := IDENT '=' expr
StmtPtr Parser::parseAssign() {
  auto a = std::make_unique<AssignStmt>(cur().loc);
  expectIdent(a->name, "a name");
  consume();  // '='
  if (!(a->value = parseExpr())) return nullptr;
  return a;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

namespace {
/// Bounds the parser's own recursion (for `((((...` and `- - - x`).
struct RecursionGuard {
  int& depth;
  explicit RecursionGuard(int& d) : depth(d) { ++depth; }
  ~RecursionGuard() { --depth; }
};
} // namespace

// expr := additive
ExprPtr Parser::parseExpr() { return parseAdditive(); }

// additive := multiplicative (('+' | '-') multiplicative)*
ExprPtr Parser::parseAdditive() {
  return parseLeftAssoc(Tok::Plus, Tok::Minus, &Parser::parseMultiplicative);
}

// multiplicative := unary (('*' | '/') unary)*
ExprPtr Parser::parseMultiplicative() {
  return parseLeftAssoc(Tok::Star, Tok::Slash, &Parser::parseUnary);
}

/// One left-associative precedence level: operand ((opA | opB) operand)*.
ExprPtr Parser::parseLeftAssoc(Tok opA, Tok opB, ExprPtr (Parser::*operand)()) {
  ExprPtr lhs = (this->*operand)();
  while (lhs && (cur().is(opA) || cur().is(opB))) {
    Token op = consume();
    ExprPtr rhs = (this->*operand)();
    if (!rhs) return nullptr;
    int depth = std::max(lhs->depth, rhs->depth) + 1;
    if (tooDeep(op.loc, depth)) return nullptr;
    lhs = std::make_unique<BinaryExpr>(op.loc, op.text[0], std::move(lhs), std::move(rhs));
    lhs->depth = depth;
  }
  return lhs;
}

// unary := '-' unary | primary
ExprPtr Parser::parseUnary() {
  RecursionGuard guard(recursion_);
  if (tooDeep(cur().loc, recursion_)) return nullptr;
  if (!cur().is(Tok::Minus)) return parsePrimary();
  SourceLoc loc = consume().loc;
  ExprPtr operand = parseUnary();
  if (!operand) return nullptr;
  int depth = operand->depth + 1;
  if (tooDeep(loc, depth)) return nullptr;
  auto e = std::make_unique<NegExpr>(loc, std::move(operand));
  e->depth = depth;
  return e;
}

// primary := NUMBER | STRING | IDENT [callArgs] | '(' expr ')' | list
ExprPtr Parser::parsePrimary() {
  RecursionGuard guard(recursion_);
  if (tooDeep(cur().loc, recursion_)) return nullptr;
  const Token& t = cur();
  switch (t.kind) {
  case Tok::Number: {
    Token n = consume();
    return std::make_unique<NumberExpr>(n.loc, n.number, n.text);
  }
  case Tok::String: {
    Token s = consume();
    return std::make_unique<StringExpr>(s.loc, s.text);
  }
  case Tok::Ident: {
    Token n = consume();
    ExprPtr name = std::make_unique<NameExpr>(n.loc, n.text);
    if (cur().is(Tok::LParen)) return parseCallArgs(std::move(name));
    return name;
  }
  case Tok::LParen: {
    SourceLoc open = consume().loc;
    ExprPtr inner = parseExpr();
    if (!inner) return nullptr;
    if (!consumeIf(Tok::RParen)) {
      errorExpected("')'");
      note(open, "to match this '('");
      return nullptr;
    }
    return inner;
  }
  case Tok::LBracket: return parseList();
  default:
    errorExpected("an expression");
    return nullptr;
  }
}

// callArgs := '(' [arg (',' arg)*] [','] ')'
// arg      := [IDENT '='] expr
ExprPtr Parser::parseCallArgs(ExprPtr calleeExpr) {
  auto* name = static_cast<NameExpr*>(calleeExpr.get());
  auto call = std::make_unique<CallExpr>(name->loc, name->name);
  SourceLoc open = consume().loc;  // '('
  int depth = 1;
  while (!cur().is(Tok::RParen)) {
    Arg arg;
    if (cur().is(Tok::Ident) && peekTok().is(Tok::Equal)) {
      arg.keyword = cur().text;
      arg.keywordLoc = consume().loc;
      consume();  // '='
    }
    if (!(arg.value = parseExpr())) return nullptr;
    depth = std::max(depth, arg.value->depth + 1);
    call->args.push_back(std::move(arg));
    if (!consumeIf(Tok::Comma)) break;
  }
  if (!consumeIf(Tok::RParen)) {
    errorExpected("',' or ')'");
    note(open, "to match this '('");
    return nullptr;
  }
  if (tooDeep(call->loc, depth)) return nullptr;
  call->depth = depth;
  return call;
}

// list := '[' [expr (',' expr)*] [','] ']'
ExprPtr Parser::parseList() {
  auto list = std::make_unique<ListExpr>(cur().loc);
  SourceLoc open = consume().loc;  // '['
  int depth = 1;
  while (!cur().is(Tok::RBracket)) {
    ExprPtr item = parseExpr();
    if (!item) return nullptr;
    depth = std::max(depth, item->depth + 1);
    list->items.push_back(std::move(item));
    if (!consumeIf(Tok::Comma)) break;
  }
  if (!consumeIf(Tok::RBracket)) {
    errorExpected("',' or ']'");
    note(open, "to match this '['");
    return nullptr;
  }
  if (tooDeep(list->loc, depth)) return nullptr;
  list->depth = depth;
  return list;
}

} // namespace recc
