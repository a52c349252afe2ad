// Runs every tests/dsl/errors/*.rec through parse -> check -> build and checks
// its annotations, in the spirit of clang's -verify:
//
//   x = y * z
//   # expected-error@-1:9 {{cannot multiply}}
//   # expected-note@+2:3 {{'y' has shape}}
//
// `@LINE:COL` is absolute; `@+N:COL` / `@-N:COL` are relative to the comment's
// own line. The text between {{ and }} must occur in the message. Every error
// reported must be expected and every expectation met; notes are checked only
// where annotated.
#include "DslTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

namespace recc::test {
namespace {

namespace fs = std::filesystem;

struct Expectation {
  Severity severity;
  int line, col;
  std::string text;
  int annotationLine;
};

std::vector<Expectation> parseAnnotations(const std::string& text) {
  static const std::regex kRe(R"(expected-(error|note)@([+-]?)(\d+):(\d+)\s*\{\{(.*?)\}\})");
  std::vector<Expectation> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    for (std::sregex_iterator it(line.begin(), line.end(), kRe), end; it != end; ++it) {
      const std::smatch& m = *it;
      int num = std::stoi(m[3]);
      int target = m[2] == "+" ? n + num : m[2] == "-" ? n - num : num;
      out.push_back({m[1] == "error" ? Severity::Error : Severity::Note, target, std::stoi(m[4]),
                     m[5], n});
    }
  }
  return out;
}

std::vector<std::string> errorFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(repoPath("tests/dsl/errors")))
    if (e.path().extension() == ".rec") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

class ErrorFileTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ErrorFileTest, DiagnosticsMatchAnnotations) {
  std::string file = GetParam();
  std::string text = readFile(repoPath("tests/dsl/errors/" + file));
  std::vector<Expectation> expected = parseAnnotations(text);
  ASSERT_FALSE(expected.empty()) << file << " has no expected-error annotations";

  DiagnosticEngine diag;
  compile(file, text, diag);
  const auto& actual = diag.diagnostics();
  std::vector<bool> used(actual.size(), false);
  auto sevName = [](Severity s) { return s == Severity::Error ? "error" : "note"; };

  for (const Expectation& e : expected) {
    bool found = false;
    for (size_t i = 0; i < actual.size() && !found; ++i) {
      const Diagnostic& d = actual[i];
      if (d.severity != e.severity || d.loc.line != e.line || d.loc.col != e.col) continue;
      if (d.message.find(e.text) == std::string::npos) continue;
      if (d.severity == Severity::Error && used[i]) continue;
      used[i] = found = true;
    }
    EXPECT_TRUE(found) << file << ":" << e.annotationLine << ": expected " << sevName(e.severity)
                       << " at " << e.line << ":" << e.col << " containing \"" << e.text
                       << "\" was not reported.\nDiagnostics:\n"
                       << diag.render();
  }
  for (size_t i = 0; i < actual.size(); ++i)
    if (actual[i].severity == Severity::Error && !used[i])
      ADD_FAILURE() << file << ": unexpected error at " << actual[i].loc.line << ":"
                    << actual[i].loc.col << ": " << actual[i].message;
}

INSTANTIATE_TEST_SUITE_P(Errors, ErrorFileTest, ::testing::ValuesIn(errorFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           for (char& c : name)
                             if (!isalnum((unsigned char)c)) c = '_';
                           return name;
                         });

TEST(ErrorAnnotations, RelativeAndAbsoluteLines) {
  auto e = parseAnnotations("x\n# expected-error@-1:3 {{a}} expected-note@7:2 {{b c}}\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].line, 1);
  EXPECT_EQ(e[0].col, 3);
  EXPECT_EQ(e[1].severity, Severity::Note);
  EXPECT_EQ(e[1].line, 7);
  EXPECT_EQ(e[1].text, "b c");
}

} // namespace
} // namespace recc::test
