// The front end never crashes on bad input: lexer basics, deep nesting, huge
// numbers, stray bytes, unterminated constructs, error limits, and a seeded
// mutation fuzzer over the shipped models (parse -> check -> build, both modes).
#include "DslTestUtil.h"

#include <sstream>

#include "dsl/Lexer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

namespace recc::test {
namespace {

/// Runs the whole front end; true if it produced a model. Never throws.
bool frontEnd(const std::string& text, DiagnosticEngine& diag) {
  auto prog = parseProgram("fuzz.rec", text, diag);
  bool parsed = !diag.hasErrors();
  // Sema must also survive partial programs from failed parses.
  bool checked = checkProgram(*prog, diag);
  if (!parsed || !checked) return false;
  bool ok = true;
  for (GraphMode mode : {GraphMode::Train, GraphMode::Eval})
    ok &= buildGraph(*prog, "", mode, diag).has_value();
  return ok;
}

TEST(Lexer, TokensAndLocations) {
  DiagnosticEngine diag;
  std::string text = "model m { # comment\n  x = 1.5e3 * y_2 }";
  auto toks = Lexer("l.rec", text, diag).lexAll();
  ASSERT_FALSE(diag.hasErrors()) << diag.render();
  std::vector<Tok> kinds;
  for (const auto& t : toks) kinds.push_back(t.kind);
  EXPECT_EQ(kinds, (std::vector<Tok>{Tok::KwModel, Tok::Ident, Tok::LBrace, Tok::Ident, Tok::Equal,
                                     Tok::Number, Tok::Star, Tok::Ident, Tok::RBrace, Tok::Eof}));
  EXPECT_EQ(toks[5].number, 1500);
  EXPECT_EQ(toks[3].loc.line, 2);
  EXPECT_EQ(toks[3].loc.col, 3);
  EXPECT_TRUE(toks[3].firstOnLine);
  EXPECT_FALSE(toks[4].firstOnLine);
}

// As docs/language.md says: one error per run of stray bytes, naming its
// first character, however long the run.
TEST(Lexer, StrayBytesAreReportedOnceAndLimited) {
  DiagnosticEngine diag;
  Lexer("b.rec", std::string("x \xe2\x88\x97 y"), diag).lexAll();
  EXPECT_EQ(diag.errorCount(), 1);
  EXPECT_EQ(diag.diagnostics()[0].message, "unexpected character '\xe2\x88\x97'");
  DiagnosticEngine ascii;
  Lexer("b.rec", std::string("x @@$@ y ~"), ascii).lexAll();
  ASSERT_EQ(ascii.errorCount(), 2);
  EXPECT_EQ(ascii.diagnostics()[0].message, "unexpected character '@' (and 3 more stray bytes)");
  EXPECT_EQ(ascii.diagnostics()[1].message, "unexpected character '~'");
  DiagnosticEngine many;
  Lexer("b.rec", std::string(5000, '\x01'), many).lexAll();
  ASSERT_EQ(many.errorCount(), 1);
  EXPECT_EQ(many.diagnostics()[0].message, "unexpected byte 0x01 (and 4999 more stray bytes)");
  // Separate runs still stop at the error limit.
  std::string runs;
  for (int i = 0; i < 5000; ++i) runs += "@ ";
  DiagnosticEngine limited;
  Lexer("b.rec", runs, limited).lexAll();
  EXPECT_EQ(limited.errorCount(), Lexer::kMaxErrors);
}

// An error on a huge line echoes a window around the caret, not the line:
// output grows with the number of errors, not with the input.
TEST(Diagnostics, EchoOfALongLineIsCappedAndTheCaretAligned) {
  std::string line = std::string(1 << 20, 'a') + " @ " + std::string(1 << 20, 'b');
  DiagnosticEngine diag;
  diag.addSource("long.rec", line);
  const int col = (1 << 20) + 2;
  diag.error({"long.rec", 1, col}, "bad");
  std::string out = diag.render();
  EXPECT_LT(out.size(), 600u) << out.substr(0, 600);
  std::istringstream in(out);
  std::string head, echo, caret;
  std::getline(in, head), std::getline(in, echo), std::getline(in, caret);
  EXPECT_EQ(head, "long.rec:1:" + std::to_string(col) + ": error: bad");
  EXPECT_TRUE(echo.starts_with("  ...a")) << echo;
  EXPECT_TRUE(echo.ends_with("b...")) << echo;
  ASSERT_EQ(caret.size(), caret.find('^') + 1);
  EXPECT_EQ(echo[caret.size() - 1], '@') << echo << "\n" << caret;
}

TEST(Diagnostics, EchoNeverCutsAUtf8Character) {
  std::string e = "\xc3\xa9";  // é: two bytes, one column
  std::string line;
  for (int i = 0; i < 1000; ++i) line += e;
  line += "@";
  for (int i = 0; i < 1000; ++i) line += e;
  DiagnosticEngine diag;
  diag.addSource("u.rec", line);
  diag.error({"u.rec", 1, 2001}, "bad");
  std::istringstream in(diag.render());
  std::string head, echo, caret;
  std::getline(in, head), std::getline(in, echo), std::getline(in, caret);
  std::string body = echo.substr(5, echo.size() - 8);  // between "  ..." and "..."
  ASSERT_FALSE(body.empty());
  EXPECT_NE(static_cast<unsigned char>(body.front()) & 0xC0, 0x80) << "starts mid-character";
  EXPECT_EQ(static_cast<unsigned char>(body.back()), 0xa9) << "ends mid-character";
  // One caret column per character: count the characters before the '@'.
  size_t at = body.find('@');
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(caret.find('^'), 2 + 3 + at / 2);
}

TEST(Diagnostics, LongMessagesAreCut) {
  DiagnosticEngine diag;
  diag.error({"m.rec", 1, 1}, "unknown name '" + std::string(100000, 'x') + "'");
  EXPECT_LT(diag.render().size(), 5000u);
}

TEST(Robustness, UnterminatedConstructs) {
  for (const char* src :
       {"model m {", "model m { x = f(", "block b(", "\"abc", "table t[1,", "model", "model m { x",
        "model m { train { batch = ", "model m { input a : ", "model m { loss l = (((1", "}}}}",
        "model m { metric a = auc(p, y) where", "model m { input a from", "# only a comment"}) {
    DiagnosticEngine diag;
    EXPECT_FALSE(frontEnd(src, diag)) << src;
    EXPECT_TRUE(diag.hasErrors() || std::string(src).find('#') == 0) << src;
  }
}

TEST(Robustness, EmptyFileHasNoModel) {
  DiagnosticEngine diag;
  auto prog = parseProgram("empty.rec", "", diag);
  EXPECT_TRUE(checkProgram(*prog, diag));
  EXPECT_FALSE(buildGraph(*prog, "", GraphMode::Train, diag));
  EXPECT_NE(diag.render().find("no model in this file"), std::string::npos);
}

TEST(Robustness, DeepNestingIsAnErrorNotACrash) {
  for (int n : {150, 1000, 20000}) {
    // Built with append: GCC 12 warns (-Wrestrict) on `"a" + std::string(n, c)`.
    std::string parens = "model m { x = ", negs = parens, chain = parens, calls = parens;
    parens.append(n, '(').append("1").append(n, ')').append(" }");
    negs.append(n, '-').append("1 }");
    chain.append("a");
    for (int i = 0; i < n; ++i) chain.append(" + a");
    chain.append(" }");
    for (int i = 0; i < n; ++i) calls.append("relu(");
    calls.append("a").append(n, ')').append(" }");
    for (const std::string* s : {&parens, &negs, &chain, &calls}) {
      DiagnosticEngine diag;
      frontEnd(*s, diag);
      EXPECT_TRUE(diag.hasErrors());
      if (n > 200) {
        EXPECT_NE(diag.render().find("nested too deeply"), std::string::npos) << s->substr(0, 40);
      }
    }
  }
}

TEST(Robustness, HugeNumbers) {
  DiagnosticEngine diag;
  frontEnd("model m { input a : id(99999999999999999999999)\n"
           "  table t[1e300, 4]\n  label y\n  x = 1e308 * 1e308\n"
           "  loss l = bce(sigmoid(dense(embed(t, a), 1e30)), y) }",
           diag);
  std::string out = diag.render();
  EXPECT_NE(out.find("the vocabulary size must be a positive integer"), std::string::npos) << out;
  EXPECT_NE(out.find("the number of rows of table 't' must be a positive integer"), std::string::npos);
  EXPECT_NE(out.find("'units' of 'dense' must be a positive integer"), std::string::npos);
}

TEST(Robustness, ErrorCountIsBounded) {
  std::string text = "model m {\n";
  for (int i = 0; i < 2000; ++i) text += "  x" + std::to_string(i) + " = = 3\n";
  text += "}\n";
  DiagnosticEngine diag;
  parseProgram("many.rec", text, diag);
  EXPECT_GT(diag.errorCount(), 5);
  EXPECT_LE(diag.errorCount(), Parser::kMaxErrors);
}

/// Every error of `diag` points into fuzz.rec: a line of `text` (or the line
/// after its last, where an unterminated construct ends) and a column >= 1, or
/// the whole file (line 0) for file-level errors such as "no model".
::testing::AssertionResult errorsAreLocated(const std::string& text, const DiagnosticEngine& diag) {
  int lines = 1 + (int)std::count(text.begin(), text.end(), '\n');
  for (const Diagnostic& d : diag.diagnostics()) {
    if (d.severity != Severity::Error) continue;
    if (d.loc.file != "fuzz.rec")
      return ::testing::AssertionFailure() << "error in file '" << d.loc.file << "': " << d.message;
    if (d.loc.known() && (d.loc.line > lines + 1 || d.loc.col < 1))
      return ::testing::AssertionFailure() << "error at " << d.loc.str() << " outside the "
                                           << lines << "-line input: " << d.message;
  }
  return ::testing::AssertionSuccess();
}

/// Random bytes: each input either builds a model or is refused with at least
/// one error, and every error names a place in the input.
TEST(Robustness, RandomBytes) {
  std::mt19937 rng(1234);
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    std::string text(rng() % 300, '\0');
    for (char& c : text) c = (char)(rng() % 256);
    DiagnosticEngine diag;
    bool built = frontEnd(text, diag);
    SCOPED_TRACE("input " + std::to_string(i));
    EXPECT_NE(built, diag.hasErrors()) << diag.render();
    EXPECT_TRUE(errorsAreLocated(text, diag));
    bool located = false;
    for (const Diagnostic& d : diag.diagnostics()) located |= d.loc.known();
    bool noModel = diag.render().find("no model in this file") != std::string::npos;
    if (!built && !noModel) EXPECT_TRUE(located) << diag.render();
    refused += !built;
  }
  EXPECT_GT(refused, 250);  // random bytes are almost never a model
}

/// Seeded mutations of the shipped models: delete, duplicate, swap or insert
/// token-like pieces, then run the whole front end. RECC_FUZZ_ITERS and
/// RECC_FUZZ_SEED run a longer or different campaign (e.g. under ASan).
TEST(Robustness, MutatedModels) {
  std::vector<std::string> seeds = {readFile(repoPath("models/esm2.rec")),
                                    readFile(repoPath("models/esmm.rec"))};
  const char* pieces[] = {"(", ")", "{", "}", "[", "]", ",", "=", "*", "-", "0", "1e9", "x",
                          "g", "y1", "model", "block", "return", "loss", "input", "table",
                          "\"", "#", "\n", "dense(", "tower(", "embed(", "\xff", "train {"};
  const char* iters = std::getenv("RECC_FUZZ_ITERS");
  const char* seed = std::getenv("RECC_FUZZ_SEED");
  std::mt19937 rng(seed ? (unsigned)std::atoi(seed) : 42u);
  int n = iters ? std::atoi(iters) : 400, built = 0;
  for (int i = 0; i < n; ++i) {
    std::string text = seeds[i % seeds.size()];
    int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size(), len = 1 + rng() % 12;
      switch (rng() % 4) {
      case 0: text.erase(at, len); break;
      case 1: text.insert(at, text.substr(rng() % text.size(), len)); break;
      case 2: text.insert(at, pieces[rng() % (sizeof pieces / sizeof *pieces)]); break;
      case 3: std::swap(text[at], text[rng() % text.size()]); break;
      }
    }
    DiagnosticEngine diag;
    built += frontEnd(text, diag);
  }
  EXPECT_GT(built, 0);  // some mutations (in comments, say) leave a valid model
}

} // namespace
} // namespace recc::test
