// OpKind: the enum of graph ops, generated from OpList.def so that the list of
// ops is written down exactly once.
#pragma once

#include <cstddef>
#include <string_view>

namespace recc {

enum class OpKind {
#define OP(Enum, Name, Arity) Enum,
#include "compiler/ops/OpList.def"
#undef OP
};

inline constexpr size_t kNumOps = 0
#define OP(Enum, Name, Arity) +1
#include "compiler/ops/OpList.def"
#undef OP
    ;

/// The printed (DSL and IR) name of an op, e.g. "scale_shift".
std::string_view opName(OpKind kind);
/// Declared arity; -1 for variadic.
int opArity(OpKind kind);
/// Looks an op up by printed name; returns false if there is none.
bool opFromName(std::string_view name, OpKind& out);

} // namespace recc
