// Columns: see Columns.h. A range `I1..I13` joins two names that share a
// prefix and end in numbers, counting up; a first number written with a
// leading zero (`C01..C26`) keeps its width.
#include "dsl/Columns.h"

#include <cstdint>
#include <map>
#include <optional>

namespace recc {
namespace {

/// A name split into a prefix and its trailing decimal number.
struct Numbered {
  std::string prefix;
  std::string digits;
  uint64_t value = 0;
};

std::optional<Numbered> splitNumber(const std::string& name) {
  size_t end = name.size();
  size_t start = end;
  while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
  if (start == end || end - start > 9) return std::nullopt;  // no number, or too long
  Numbered n{name.substr(0, start), name.substr(start), 0};
  n.value = std::stoull(n.digits);
  return n;
}

std::string numbered(const Numbered& first, uint64_t k) {
  std::string digits = std::to_string(k);
  const bool padded = first.digits.size() > 1 && first.digits[0] == '0';
  if (padded && digits.size() < first.digits.size())
    digits.insert(0, first.digits.size() - digits.size(), '0');
  return first.prefix + digits;
}

class Expander {
public:
  Expander(ColumnList& out, DiagnosticEngine* diag) : Out(out), Diag(diag) {}

  void add(const ast::ColumnRange& r) {
    DuplicateReported = false;  // one error per entry, not per name of a range
    if (r.last.name.empty()) return push(r.first.name, r.first.loc);
    const std::string text = r.first.name + ".." + r.last.name;
    auto a = splitNumber(r.first.name), b = splitNumber(r.last.name);
    if (!a || !b || a->prefix != b->prefix || a->prefix.empty())
      return error(r.first.loc, "column range '" + text + "' must join two names that share "
                                "a prefix and end in a number, e.g. I1..I13");
    if (b->value <= a->value)
      return error(r.last.loc, "column range '" + text + "' must count up: " +
                                   r.last.name + " does not follow " + r.first.name);
    if (b->value - a->value >= kMaxColumns)
      return error(r.first.loc, "column range '" + text + "' has more than " +
                                    std::to_string(kMaxColumns) + " columns");
    for (uint64_t k = a->value; k <= b->value && !full(r.first.loc); ++k)
      push(numbered(*a, k), r.first.loc);
  }

private:
  bool full(const SourceLoc& loc) {
    if (Out.names.size() < kMaxColumns) return false;
    if (!Overflowed)
      error(loc, "the column list has more than " + std::to_string(kMaxColumns) + " columns");
    Overflowed = true;
    return true;
  }

  void push(const std::string& name, const SourceLoc& loc) {
    if (full(loc)) return;
    auto [it, fresh] = Seen.emplace(name, loc);
    if (!fresh) {
      if (!DuplicateReported) {
        error(loc, "column '" + name + "' appears twice in the column list");
        if (Diag) Diag->note(it->second, "first listed here");
      }
      DuplicateReported = true;
      return;
    }
    Out.names.push_back(name);
    Out.locs.push_back(loc);
  }

  void error(const SourceLoc& loc, const std::string& message) {
    if (Diag) Diag->error(loc, message);
  }

  ColumnList& Out;
  DiagnosticEngine* Diag;
  std::map<std::string, SourceLoc> Seen;
  bool Overflowed = false;
  bool DuplicateReported = false;
};

} // namespace

ColumnList expandColumns(const ast::ColumnsStmt& stmt, DiagnosticEngine* diag) {
  ColumnList list;
  Expander expander(list, diag);
  for (const ast::ColumnRange& r : stmt.items) expander.add(r);
  const std::string& d = stmt.delimiter.name;
  if (d == "tab" || d == "comma")
    list.delimiter = d;
  else if (!d.empty() && diag)
    diag->error(stmt.delimiter.loc, "unknown delimiter '" + d + "'; expected 'tab' or 'comma'");
  return list;
}

} // namespace recc
