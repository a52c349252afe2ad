// ASTPrinter: walks the AST and prints one line per node, e.g.
//   Assign 'p_ctavr' @24:3
//     Binary '*' @24:16
//       Name 'y1' @24:13
//       Name 'y2' @24:18
#include "dsl/ASTPrinter.h"

#include <ostream>
#include <string>

namespace recc {

using namespace ast;

namespace {

class ASTPrinter {
public:
  explicit ASTPrinter(std::ostream& os) : os_(os) {}

  void print(const Program& prog) {
    os_ << "Program\n";
    for (const auto& d : prog.decls) printStmt(*d, 1);
  }

private:
  std::string at(const SourceLoc& loc) {
    return " @" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
  }
  std::ostream& line(int indent) { return os_ << std::string(2 * indent, ' '); }
  void printIdent(const char* what, const Ident& id, int indent) {
    line(indent) << what << " '" << id.name << "'" << at(id.loc);
    if (!id.column.empty()) os_ << " from \"" << id.column << "\"" << at(id.columnLoc);
    os_ << "\n";
  }
  void printBody(const std::vector<StmtPtr>& body, int indent) {
    for (const auto& s : body) printStmt(*s, indent);
  }

  void printStmt(const Stmt& s, int indent);
  void printExpr(const Expr& e, int indent);

  std::ostream& os_;
};

void ASTPrinter::printStmt(const Stmt& s, int indent) {
  if (auto* m = dynCast<ModelDecl>(&s)) {
    line(indent) << "Model '" << m->name.name << "'" << at(m->loc) << "\n";
    printBody(m->body, indent + 1);
  } else if (auto* in = dynCast<InputDecl>(&s)) {
    line(indent) << "Input" << at(in->loc) << "\n";
    for (const auto& n : in->names) printIdent("Name", n, indent + 1);
    printExpr(*in->type, indent + 1);
  } else if (auto* l = dynCast<LabelDecl>(&s)) {
    line(indent) << "Label" << at(l->loc) << "\n";
    for (const auto& n : l->names) printIdent("Name", n, indent + 1);
  } else if (auto* t = dynCast<TableDecl>(&s)) {
    line(indent) << "Table '" << t->name.name << "'" << at(t->loc) << "\n";
    printExpr(*t->rows, indent + 1);
    printExpr(*t->dim, indent + 1);
    if (t->init) {
      line(indent + 1) << "Init\n";
      printExpr(*t->init, indent + 2);
    }
    if (!t->storage.empty()) line(indent + 1) << "Storage " << t->storage << "\n";
  } else if (auto* b = dynCast<BlockDecl>(&s)) {
    line(indent) << "Block '" << b->name.name << "'" << at(b->loc) << "\n";
    for (const auto& p : b->params) printIdent("Param", p, indent + 1);
    printBody(b->body, indent + 1);
  } else if (auto* a = dynCast<AssignStmt>(&s)) {
    line(indent) << "Assign '" << a->name.name << "'" << at(a->loc) << "\n";
    printExpr(*a->value, indent + 1);
  } else if (auto* r = dynCast<ReturnStmt>(&s)) {
    line(indent) << "Return" << at(r->loc) << "\n";
    printExpr(*r->value, indent + 1);
  } else if (auto* ls = dynCast<LossStmt>(&s)) {
    line(indent) << "Loss '" << ls->name.name << "'" << at(ls->loc) << "\n";
    printExpr(*ls->value, indent + 1);
    if (ls->weight) {
      line(indent + 1) << "Weight\n";
      printExpr(*ls->weight, indent + 2);
    }
  } else if (auto* o = dynCast<OutputStmt>(&s)) {
    line(indent) << "Output" << at(o->loc) << "\n";
    for (const auto& n : o->names) printIdent("Name", n, indent + 1);
  } else if (auto* me = dynCast<MetricStmt>(&s)) {
    line(indent) << "Metric '" << me->name.name << "'" << at(me->loc) << "\n";
    printExpr(*me->value, indent + 1);
    if (!me->where.name.empty()) printIdent("Where", me->where, indent + 1);
  } else if (auto* st = dynCast<StreamDecl>(&s)) {
    line(indent) << "Stream '" << st->name.name << "'" << at(st->loc) << "\n";
    if (st->batch) {
      line(indent + 1) << "Batch\n";
      printExpr(*st->batch, indent + 2);
    }
    printBody(st->body, indent + 1);
  } else if (auto* cs = dynCast<ColumnsStmt>(&s)) {
    line(indent) << "Columns" << at(cs->loc) << "\n";
    for (const auto& r : cs->items) {
      printIdent("Column", r.first, indent + 1);
      if (!r.last.name.empty()) printIdent("Through", r.last, indent + 2);
    }
    if (!cs->delimiter.name.empty()) printIdent("Delimiter", cs->delimiter, indent + 1);
  } else if (auto* tr = dynCast<TrainStmt>(&s)) {
    line(indent) << "Train" << at(tr->loc) << "\n";
    for (const auto& st : tr->settings) {
      printIdent("Setting", st.name, indent + 1);
      printExpr(*st.value, indent + 2);
    }
  }
}

void ASTPrinter::printExpr(const Expr& e, int indent) {
  if (auto* n = dynCast<NumberExpr>(&e)) {
    line(indent) << "Number " << n->text << at(n->loc) << "\n";
  } else if (auto* s = dynCast<StringExpr>(&e)) {
    line(indent) << "String \"" << s->value << "\"" << at(s->loc) << "\n";
  } else if (auto* nm = dynCast<NameExpr>(&e)) {
    line(indent) << "Name '" << nm->name << "'" << at(nm->loc) << "\n";
  } else if (auto* c = dynCast<CallExpr>(&e)) {
    line(indent) << "Call '" << c->callee << "'" << at(c->loc) << "\n";
    for (const auto& a : c->args) {
      if (a.keyword.empty()) {
        printExpr(*a.value, indent + 1);
      } else {
        line(indent + 1) << "Keyword '" << a.keyword << "'" << at(a.keywordLoc) << "\n";
        printExpr(*a.value, indent + 2);
      }
    }
  } else if (auto* b = dynCast<BinaryExpr>(&e)) {
    line(indent) << "Binary '" << b->op << "'" << at(b->loc) << "\n";
    printExpr(*b->lhs, indent + 1);
    printExpr(*b->rhs, indent + 1);
  } else if (auto* ng = dynCast<NegExpr>(&e)) {
    line(indent) << "Neg" << at(ng->loc) << "\n";
    printExpr(*ng->operand, indent + 1);
  } else if (auto* l = dynCast<ListExpr>(&e)) {
    line(indent) << "List" << at(l->loc) << "\n";
    for (const auto& i : l->items) printExpr(*i, indent + 1);
  }
}

} // namespace

void printAst(const Program& prog, std::ostream& os) { ASTPrinter(os).print(prog); }

} // namespace recc
