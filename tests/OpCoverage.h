// OpCoverage: which ops a test file has cases for. OP_TEST(Suite, Name, Kind)
// declares a gtest TEST and records OpKind::Kind in a static set at static-init
// time, so a sweep test in the same binary can require every op to appear
// however gtest orders, filters or splits the tests (ctest runs each test in
// a process of its own).
#pragma once

#include "compiler/ops/OpKind.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>

namespace recc::testing {

inline std::set<OpKind>& coveredOps() {
  static std::set<OpKind> ops;
  return ops;
}

inline bool cover(std::initializer_list<OpKind> kinds) {
  coveredOps().insert(kinds.begin(), kinds.end());
  return true;
}

}  // namespace recc::testing

#define OP_TEST(Suite, Name, Kind)                                                         \
  [[maybe_unused]] static const bool Suite##_##Name##_covers =                            \
      ::recc::testing::cover({::recc::OpKind::Kind});                                      \
  TEST(Suite, Name)
