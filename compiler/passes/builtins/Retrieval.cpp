// Retrieval: ops across rows rather than within one — top_k (the ids of the
// best-scoring items, a serving-only output) and group_sum (per row, the sum
// over the batch rows that share its id).
#include "compiler/passes/builtins/Families.h"

namespace recc::buildgraph::builtins {
namespace {

bool checkTopK(BuiltinCheck& c) {
  bool ok = c.tensor(0);
  ok &= c.tensor(1);
  ok &= c.integer(c.arg(2), 1, 1 << 20, "'k' of 'top_k'");
  return ok;
}

Value buildTopK(BuiltinCall& c) {
  double k;
  if (c.builder().mode() == GraphMode::Train) {  // a serving output: not in the training graph
    if (!c.number(2, k)) return Value{};
    Value v;
    v.kind = Value::Kind::Serving;
    v.number = k;  // its width, for the ranking metrics' 'k'
    return v;
  }
  NodeId q = c.tensor(0), items = c.tensor(1);
  if (q == kNoNode || items == kNoNode || !c.number(2, k)) return Value{};
  return Value::tensor(c.builder().add(OpKind::TopK, {q, items}, {{"k", (int64_t)k}}, c.loc()));
}

bool checkGroupSum(BuiltinCheck& c) {
  bool ok = c.tensor(0, true);  // a number counts rows: group_sum(1, by = c)
  ok &= c.ids(1);
  return ok;
}

/// Each row gets the sum of x over the batch rows with its id (O(B·|row|));
/// a number x is a column of that number: group_sum(1, by = c) counts rows.
Value buildGroupSum(BuiltinCall& c) {
  GraphBuilder& g = c.builder();
  const SourceLoc& loc = c.loc();
  Value xv = c.eval(0);
  Value bv = c.eval(1);
  if (!xv.ok() || !bv.ok()) return Value{};
  if (bv.kind != Value::Kind::Ids || bv.input->kind != FeatureKind::Categorical) {
    g.report(c.arg(1)->loc, "'by' of 'group_sum' must be a single-valued id input (id(V)), "
                            "e.g. by = cate_id");
    return Value{};
  }
  InputInfo& in = *bv.input;
  NodeId ids = g.idsOf(in, loc);
  NodeId x = xv.kind == Value::Kind::Number ? g.scaleShift(ids, 0, xv.number, loc)
                                            : c.tensorOf(xv, 0);
  if (x == kNoNode || ids == kNoNode) return Value{};
  Shape xs = g.shapeOf(x);
  if (xs.rank() < 1 || !isBatchDim(xs[0])) {
    g.report(c.arg(0)->loc, "'group_sum' sums over the batch rows of a value of shape [B,...], "
                            "got " + xs.str());
    return Value{};
  }
  if (xs[0] != in.batch) {
    g.report(c.arg(1)->loc, "'group_sum' groups the rows of a value of shape " + xs.str() +
                                " by '" + in.ident->name + "', an id input of another stream (" +
                                g.shapeOf(ids).str() + "); group by an id input of its stream");
    return Value{};
  }
  return Value::tensor(g.add(OpKind::GroupSum, {x, ids}, {}, loc));
}

} // namespace

std::span<const BuiltinRecord> retrievalBuiltins() {
  static const BuiltinRecord kRecords[] = {
      {.name = "top_k", .context = kExpr, .params = {{"query", true}, {"items", true}, {"k", true}},
       .usage = "top_k(query, items, k)", .check = checkTopK, .build = buildTopK},
      {.name = "group_sum", .context = kExpr, .params = {{"x", true}, {"by", true}},
       .usage = "group_sum(x, by = ids)", .check = checkGroupSum, .build = buildGroupSum},
  };
  return kRecords;
}

} // namespace recc::buildgraph::builtins
