// Attention: matmul (batched when either side has more than two axes), the
// head split and merge of multi-head attention, and the causal mask.
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkMatMul(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.tensor(1);
  if (c.arg(2)) ok &= c.integer(c.arg(2), 0, 1, "'transpose_b' of 'matmul'");
  return ok;
}

Value buildMatMul(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  NodeId a = c.tensor(0), b = c.tensor(1);
  double tb;
  if (a == kNoNode || b == kNoNode || !c.numberOr(2, 0, tb)) return Value{};
  OpKind k = g.shapeOf(a).rank() == 2 && g.shapeOf(b).rank() == 2 ? OpKind::MatMul
                                                                   : OpKind::BatchMatMul;
  return Value::tensor(
      g.add(k, {a, b}, {{"transpose_a", int64_t(0)}, {"transpose_b", (int64_t)tb}}, c.loc()));
}

bool checkSplitHeads(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.integer(c.arg(1), 1, 4096, "'heads' of 'split_heads'");
  return ok;
}

/// [B,L,d] -> [B,heads,L,d/heads].
Value buildSplitHeads(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0);
  double h;
  if (x == kNoNode || !c.number(1, h)) return Value{};
  Shape s = g.shapeOf(x);
  if (s.rank() != 3 || s[2] < 0 || s[2] % (int64_t)h != 0)
    return c.fail("'split_heads' expects [B,L,d] with d divisible by " +
                  std::to_string((int64_t)h) + " heads, got " + s.str());
  NodeId r = g.reshape(x, {s[0], s[1], (int64_t)h, s[2] / (int64_t)h}, loc);
  return Value::tensor(
      g.add(OpKind::Transpose, {r}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}}, loc));
}

/// [B,heads,L,d] -> [B,L,heads*d].
Value buildMergeHeads(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  NodeId x = c.tensor(0);
  if (x == kNoNode) return Value{};
  Shape s = g.shapeOf(x);
  if (s.rank() != 4 || s[1] < 0 || s[3] < 0)
    return c.fail("'merge_heads' expects [B,heads,L,d], got " + s.str());
  NodeId t = g.add(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{0, 2, 1, 3}}}, loc);
  return Value::tensor(g.reshape(t, {s[0], s[2], s[1] * s[3]}, loc));
}

bool checkCausalMask(BuiltinCheck& c) {
  return c.integer(c.arg(0), 1, kMaxWidth, "'size' of 'causal_mask'");
}

Value buildCausalMask(BuiltinCall& c) {
  double n;
  if (!c.number(0, n)) return Value{};
  return Value::tensor(c.builder().add(OpKind::CausalMask, {}, {{"size", (int64_t)n}}, c.loc()));
}

} // namespace

std::span<const BuiltinRecord> attentionBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "matmul", .context = kExpr,
       .params = {{"a", true}, {"b", true}, {"transpose_b", false}},
       .usage = "matmul(a, b, transpose_b = 0)", .check = checkMatMul, .build = buildMatMul},
      {.name = "split_heads", .context = kExpr, .params = {{"x", true}, {"heads", true}},
       .usage = "split_heads(x, heads)", .check = checkSplitHeads, .build = buildSplitHeads},
      {.name = "merge_heads", .context = kExpr, .params = {{"x", true}},
       .usage = "merge_heads(x)", .check = oneTensor, .build = buildMergeHeads},
      {.name = "causal_mask", .context = kExpr, .params = {{"size", true}},
       .usage = "causal_mask(size)", .check = checkCausalMask, .build = buildCausalMask},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
