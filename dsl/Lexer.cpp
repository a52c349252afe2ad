// Lexer: hand-written scanner for .rec files (identifiers, numbers, strings,
// punctuation, statement keywords, `#` comments). Every token carries its
// file:line:col; errors are reported and the offending bytes skipped.
#include "dsl/Lexer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace recc {

namespace {
struct Keyword {
  const char* text;
  Tok kind;
};
constexpr Keyword kKeywords[] = {
    {"model", Tok::KwModel},   {"input", Tok::KwInput},   {"label", Tok::KwLabel},
    {"table", Tok::KwTable},   {"block", Tok::KwBlock},   {"return", Tok::KwReturn},
    {"loss", Tok::KwLoss},     {"output", Tok::KwOutput}, {"metric", Tok::KwMetric},
    {"train", Tok::KwTrain},
};

bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

/// Whether `c` can begin a token, a comment or blank space: a run of stray
/// bytes ends before it.
bool canStartToken(char c) {
  return isIdentChar(c) || c == '"' || c == '#' || c == '.' || c == ' ' || c == '\t' ||
         c == '\r' || c == '\n' || c == '\f' || c == '\v' ||
         std::string_view("(){}[],:=+-*/").find(c) != std::string_view::npos;
}
} // namespace

const char* tokKindName(Tok kind) {
  switch (kind) {
  case Tok::Eof: return "end of file";
  case Tok::Ident: return "identifier";
  case Tok::Number: return "number";
  case Tok::String: return "string";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::Comma: return "','";
  case Tok::Colon: return "':'";
  case Tok::Equal: return "'='";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::Slash: return "'/'";
  case Tok::DotDot: return "'..'";
  default: break;
  }
  for (const auto& k : kKeywords)
    if (k.kind == kind) return k.text;
  return "token";
}

std::string describeToken(const Token& tok) {
  switch (tok.kind) {
  case Tok::Ident: return "identifier '" + tok.text + "'";
  case Tok::Number: return "number '" + tok.text + "'";
  case Tok::String: return "string \"" + tok.text + "\"";
  case Tok::Eof: return "end of file";
  default: break;
  }
  if (isStatementKeyword(tok.kind)) return "'" + tok.text + "'";
  return tokKindName(tok.kind);
}

bool isStatementKeyword(Tok kind) { return kind >= Tok::KwModel && kind <= Tok::KwTrain; }

Lexer::Lexer(std::string file, const std::string& text, DiagnosticEngine& diag)
    : file_(std::move(file)), text_(text), diag_(diag) {}

std::vector<Token> Lexer::lexAll() {
  std::vector<Token> toks;
  for (;;) {
    toks.push_back(next());
    if (toks.back().is(Tok::Eof)) return toks;
  }
}

char Lexer::peek(size_t ahead) const {
  return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
}

char Lexer::advance() {
  char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  return c;
}

void Lexer::error(int line, int col, const std::string& message) {
  if (++errors_ > kMaxErrors) return;
  diag_.error({file_, line, col}, errors_ == kMaxErrors
                                      ? message + " (further lexical errors are not shown)"
                                      : message);
}

Token Lexer::make(Tok kind, int line, int col, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  t.loc = {file_, line, col};
  t.firstOnLine = line != lastTokLine_;
  lastTokLine_ = line;
  return t;
}

void Lexer::skipSpaceAndComments() {
  while (pos_ < text_.size()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      advance();
    } else if (c == '#') {
      while (pos_ < text_.size() && peek() != '\n') advance();
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  for (;;) {
    skipSpaceAndComments();
    int line = line_, col = col_;
    if (pos_ >= text_.size()) return make(Tok::Eof, line, col, "");
    char c = peek();
    if (isIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && isIdentChar(peek())) advance();
      std::string word = text_.substr(start, pos_ - start);
      for (const auto& k : kKeywords)
        if (word == k.text) return make(k.kind, line, col, word);
      return make(Tok::Ident, line, col, word);
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) return lexNumber(line, col);
    if (c == '"') return lexString(line, col);
    if (c == '.' && peek(1) == '.') {
      advance();
      advance();
      return make(Tok::DotDot, line, col, "..");
    }
    Tok kind = Tok::Eof;
    switch (c) {
    case '(': kind = Tok::LParen; break;
    case ')': kind = Tok::RParen; break;
    case '{': kind = Tok::LBrace; break;
    case '}': kind = Tok::RBrace; break;
    case '[': kind = Tok::LBracket; break;
    case ']': kind = Tok::RBracket; break;
    case ',': kind = Tok::Comma; break;
    case ':': kind = Tok::Colon; break;
    case '=': kind = Tok::Equal; break;
    case '+': kind = Tok::Plus; break;
    case '-': kind = Tok::Minus; break;
    case '*': kind = Tok::Star; break;
    case '/': kind = Tok::Slash; break;
    default: break;
    }
    if (kind != Tok::Eof) {
      advance();
      return make(kind, line, col, std::string(1, c));
    }
    // A run of stray bytes (a UTF-8 character is several) gives one error.
    size_t start = pos_;
    do advance();
    while (pos_ < text_.size() && !canStartToken(peek()));
    reportStray(std::string_view(text_).substr(start, pos_ - start), line, col);
  }
}

/// Names the first character of a run of stray bytes, and how many bytes
/// follow it, without echoing the run (which may be megabytes).
void Lexer::reportStray(std::string_view run, int line, int col) {
  unsigned char first = static_cast<unsigned char>(run[0]);
  size_t len = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;
  len = std::min(len, run.size());
  std::string what;
  if (first >= 0x80 || (first > ' ' && first < 0x7f)) {
    what = "unexpected character '" + std::string(run.substr(0, len)) + "'";
  } else {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", first);
    what = std::string("unexpected byte ") + hex;
  }
  if (run.size() > len)
    what += " (and " + std::to_string(run.size() - len) + " more stray bytes)";
  error(line, col, what);
}

Token Lexer::lexNumber(int line, int col) {
  size_t start = pos_;
  while (isDigit(peek())) advance();
  if (peek() == '.') {
    advance();
    while (isDigit(peek())) advance();
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
    advance();
    if (peek() == '+' || peek() == '-') advance();
    while (isDigit(peek())) advance();
  }
  bool trailing = false;  // "100k", "1.2.3": one malformed literal, one error
  while (isIdentChar(peek()) || peek() == '.') {
    advance();
    trailing = true;
  }
  Token t = make(Tok::Number, line, col, text_.substr(start, pos_ - start));
  if (trailing) {
    error(line, col, "invalid number '" + t.text + "'");
    return t;
  }
  errno = 0;
  t.number = std::strtod(t.text.c_str(), nullptr);
  if (!std::isfinite(t.number) || (errno == ERANGE && std::fabs(t.number) > 1)) {
    error(line, col, "number '" + t.text + "' is too large");
    t.number = 0;
  }
  return t;
}

Token Lexer::lexString(int line, int col) {
  advance();  // opening quote
  size_t start = pos_;
  while (pos_ < text_.size() && peek() != '"' && peek() != '\n') advance();
  Token t = make(Tok::String, line, col, text_.substr(start, pos_ - start));
  if (peek() == '"') {
    advance();
  } else {
    error(line, col, "unterminated string");
  }
  return t;
}

} // namespace recc
