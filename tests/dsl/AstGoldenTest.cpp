// AST golden tests: each tests/dsl/golden/NAME.rec is parsed and dumped with
// printAst; the dump must equal NAME.ast. Set RECC_UPDATE_GOLDEN=1 to rewrite
// the .ast files after an intended change (and review the diff).
#include "DslTestUtil.h"

#include "dsl/ASTPrinter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace recc::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> goldenFiles() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(repoPath("tests/dsl/golden")))
    if (e.path().extension() == ".rec") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class AstGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AstGoldenTest, DumpMatches) {
  std::string base = repoPath("tests/dsl/golden/" + GetParam());
  DiagnosticEngine diag;
  auto prog = parseProgram(GetParam() + ".rec", readFile(base + ".rec"), diag);
  ASSERT_FALSE(diag.hasErrors()) << diag.render();
  EXPECT_TRUE(checkProgram(*prog, diag)) << diag.render();
  std::ostringstream os;
  printAst(*prog, os);
  if (std::getenv("RECC_UPDATE_GOLDEN")) {
    std::ofstream(base + ".ast") << os.str();
    GTEST_SKIP() << "rewrote " << base << ".ast";
  }
  EXPECT_EQ(os.str(), readFile(base + ".ast"));
}

INSTANTIATE_TEST_SUITE_P(Golden, AstGoldenTest, ::testing::ValuesIn(goldenFiles()));

TEST(AstPrinter, PrecedenceAndLocations) {
  DiagnosticEngine diag;
  auto prog = parseProgram("p.rec", "model m {\n  x = a - b * -c\n}\n", diag);
  ASSERT_FALSE(diag.hasErrors()) << diag.render();
  std::ostringstream os;
  printAst(*prog, os);
  EXPECT_EQ(os.str(),
            "Program\n"
            "  Model 'm' @1:1\n"
            "    Assign 'x' @2:3\n"
            "      Binary '-' @2:9\n"
            "        Name 'a' @2:7\n"
            "        Binary '*' @2:13\n"
            "          Name 'b' @2:11\n"
            "          Neg @2:15\n"
            "            Name 'c' @2:16\n");
}

} // namespace
} // namespace recc::test
