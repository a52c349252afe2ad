// Token: the lexical units of a .rec file. The language is newline-insensitive
// (a statement ends where its expression cannot continue), so there is no
// newline token; the parser uses Token::firstOnLine only to pick good places
// to resume after a syntax error.
#pragma once

#include "dsl/SourceLoc.h"

#include <string>

namespace recc {

enum class Tok {
  Eof,
  Ident,
  Number,
  String,
  // Punctuation.
  LParen, RParen, LBrace, RBrace, LBracket, RBracket,
  Comma, Colon, Equal, Plus, Minus, Star, Slash,
  DotDot,  // `..` of a column range (`I1..I13`)
  // Reserved words that start statements. (`where`, `weight`, `init` and
  // `from` are contextual: they are ordinary identifiers elsewhere.)
  KwModel, KwInput, KwLabel, KwTable, KwBlock, KwReturn,
  KwLoss, KwOutput, KwMetric, KwTrain,
};

struct Token {
  Tok kind = Tok::Eof;
  std::string text;       ///< the spelling (string literals: the contents)
  double number = 0;      ///< Tok::Number: the value
  SourceLoc loc;
  bool firstOnLine = false;  ///< no other token precedes it on its line

  bool is(Tok k) const { return kind == k; }
  bool isIdent(const char* word) const { return kind == Tok::Ident && text == word; }
};

/// How a token kind is named in "expected X" messages: "identifier", "'('".
const char* tokKindName(Tok kind);

/// How a concrete token is named in "found Y" messages: "identifier 'foo'",
/// "number '3'", "'}'", "end of file".
std::string describeToken(const Token& tok);

/// True for the reserved words that begin a statement.
bool isStatementKeyword(Tok kind);

} // namespace recc
