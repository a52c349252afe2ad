// The builtin records (dsl/Builtins.h, compiler/passes/builtins/): every
// expression builtin is registered once, in the order of the language
// reference, with its check and build functions; the other builtins are rows
// without them; and a program needs no registration step of its own.
#include "DslTestUtil.h"

#include "dsl/Builtins.h"

#include <gtest/gtest.h>

#include <set>

namespace recc::test {
namespace {

constexpr BuiltinContext kContexts[] = {BuiltinContext::Expr, BuiltinContext::Metric,
                                        BuiltinContext::Optimizer, BuiltinContext::Init,
                                        BuiltinContext::InputType};

TEST(BuiltinRecords, ExpressionBuiltinsCheckAndBuild) {
  std::vector<std::string> names = builtinNames(BuiltinContext::Expr);
  ASSERT_EQ(names.size(), 48u);
  EXPECT_EQ(names.front(), "embed");
  EXPECT_EQ(names.back(), "info_nce");
  std::set<std::string> seen;
  for (const std::string& n : names) {
    EXPECT_TRUE(seen.insert(n).second) << n << " is registered twice";
    const BuiltinRecord* r = findBuiltin(n, BuiltinContext::Expr);
    ASSERT_NE(r, nullptr) << n;
    EXPECT_NE(r->check, nullptr) << n << " has no check function";
    EXPECT_NE(r->build, nullptr) << n << " has no build function";
    EXPECT_FALSE(std::string(r->usage).empty()) << n << " has no usage line";
  }
}

TEST(BuiltinRecords, OtherContextsAreRowsWithoutFunctions) {
  for (BuiltinContext ctx : kContexts) {
    if (ctx == BuiltinContext::Expr) continue;
    for (const std::string& n : builtinNames(ctx)) {
      const BuiltinRecord* r = findBuiltin(n, ctx);
      ASSERT_NE(r, nullptr) << n;
      EXPECT_EQ(r->check, nullptr) << n;
      EXPECT_EQ(r->build, nullptr) << n;
    }
  }
  // `dense` is a layer first, an input type second.
  EXPECT_EQ(findAnyBuiltin("dense")->context, BuiltinContext::Expr);
  EXPECT_EQ(findBuiltin("dense", BuiltinContext::InputType)->context, BuiltinContext::InputType);
}

TEST(BuiltinRecords, RegisteringAgainChangesNothing) {
  std::vector<std::string> before = builtinNames(BuiltinContext::Expr);
  const BuiltinRecord* relu = findBuiltin("relu", BuiltinContext::Expr);
  registerBuiltins(std::span<const BuiltinRecord>(relu, 1));
  EXPECT_EQ(builtinNames(BuiltinContext::Expr), before);
}

} // namespace
} // namespace recc::test
