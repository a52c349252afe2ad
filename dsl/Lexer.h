// Lexer: turns the text of a .rec file into tokens. `#` starts a comment that
// runs to the end of the line. Bad input (stray bytes, unterminated strings,
// numbers out of range) is reported to the DiagnosticEngine and skipped, so the
// parser always receives a well-formed token stream ending in Tok::Eof.
#pragma once

#include "dsl/Diagnostics.h"
#include "dsl/Token.h"

#include <string>
#include <string_view>
#include <vector>

namespace recc {

class Lexer {
public:
  Lexer(std::string file, const std::string& text, DiagnosticEngine& diag);

  /// Lexes the whole text; the last token is always Tok::Eof.
  std::vector<Token> lexAll();

  /// Stops reporting lexical errors after this many (a binary file would
  /// otherwise produce one error per byte).
  static constexpr int kMaxErrors = 20;

private:
  Token next();
  Token make(Tok kind, int line, int col, std::string text);
  Token lexNumber(int line, int col);
  Token lexString(int line, int col);
  void skipSpaceAndComments();
  char peek(size_t ahead = 0) const;
  char advance();
  void error(int line, int col, const std::string& message);
  void reportStray(std::string_view run, int line, int col);

  std::string file_;
  const std::string& text_;
  DiagnosticEngine& diag_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int lastTokLine_ = 0;
  int errors_ = 0;
};

} // namespace recc
