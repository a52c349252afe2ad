// CsvReader: see CsvReader.h. Each file is read into memory (TextSource.h;
// not mapped, so a file that shrinks meanwhile cannot crash the reader, and
// pipes work), split into lines, and rows are parsed in parallel chunks straight
// into the DataSet's columns (each row writes only its own slots). Each chunk
// stops at its first bad row; the error reported is the one on the lowest
// line, so the message does not depend on the thread count. DataChunks runs
// the same Reader on a few lines at a time, which LineSource.h copies out of
// the decompressed stream.
#include "runtime/CsvReader.h"

#include "runtime/DataSetRows.h"
#include "runtime/Error.h"
#include "runtime/DataFiles.h"
#include "runtime/TextSource.h"
#include "runtime/IdLookup.h"
#include "runtime/LineShard.h"
#include "runtime/LineSource.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace recc::rt {
namespace {

/// Trims surrounding blanks (not the delimiter) and one pair of quotes.
std::string_view cleanField(std::string_view f, char delim) {
  const char* blanks = delim == '\t' ? " " : " \t";
  size_t b = f.find_first_not_of(blanks);
  if (b == std::string_view::npos)
    return {};
  f = f.substr(b, f.find_last_not_of(blanks) - b + 1);
  if (f.size() >= 2 && f.front() == '"' && f.back() == '"')
    f = f.substr(1, f.size() - 2);
  return f;
}

void splitFields(std::string_view line, char delim, std::vector<std::string_view>& out) {
  out.clear();
  size_t pos = 0;
  while (true) {
    size_t end = line.find(delim, pos);
    out.push_back(cleanField(line.substr(pos, end - pos), delim));
    if (end == std::string_view::npos)
      return;
    pos = end + 1;
  }
}

/// Appended to the error for an empty cell of an input that could declare a
/// default.
constexpr const char* kNoNa = " (no default: declare 'na = ...' on the input)";

/// What one header column feeds.
struct Target {
  enum Kind { Feature, Label, Group, Keep } kind;
  int index;             // plan feature / label index, or group slot
  std::string describe;  // "model feature 'user_id'", for messages
};

/// Thrown by a row that --unseen skip drops; caught per row.
struct SkipRow {};

/// Out-of-vocabulary ids of the row being parsed on this thread, added to the
/// file's count only when the row is kept.
thread_local int64_t rowOovIds = 0;

class Reader {
public:
  /// Reads `paths` as one data set: rows in file order, each file with the
  /// same header.
  Reader(std::vector<std::string> paths, const ModelPlan& plan, const ReadOptions& options)
      : Paths(std::move(paths)), Path(Paths.at(0)), Plan(plan), Options(options) {
    loadVocabularies();
  }

  /// Every row of every file, in memory.
  DataSet read();
  /// Whether the files have no header row (the model's `columns` list).
  bool headerless() const { return !Plan.columns.empty(); }
  /// The first line of file `first.file`: binds the columns (from the header,
  /// or the model's column list) for the first file, checks a later file's
  /// header against it. Returns whether the line is data (headerless files).
  bool acceptFirstLine(const Line& first);
  /// The rows `lines` (data lines of any of the files) as a data set; rows
  /// --unseen skip drops are left out, even all of them.
  DataSet parseChunk(const std::vector<Line>& lines);

private:
  std::vector<std::string> headerNames(const Line& header) const;
  void bindHeader(const Line& header);
  void bindColumnList(const Line& first);
  void bindTargets();
  void bind(const std::string& column, Target target, bool required);
  void parseRows(const std::vector<Line>& lines);
  void parseRow(const Line& line, int64_t row, std::vector<std::string_view>& fields);
  void parseIds(const Line& line, int col, std::string_view field, int f, int64_t row);
  void parseBags(const Line& line, int col, std::string_view field, int f, int64_t row);
  /// One id of feature `f`; `element`/`word` (0-based) place it in a bag for
  /// messages (-1: not in a bag).
  int64_t parseId(const Line& line, int col, std::string_view token, int f,
                  int64_t element = -1, int64_t word = -1);
  /// An integer id outside feature `f`'s vocabulary, under Options.unseen.
  int64_t unseenId(const Line& line, int col, int64_t id, int f, int64_t element,
                   int64_t word);
  float parseFloat(const Line& line, int col, std::string_view field, const char* what);
  float parseDense(const Line& line, int col, std::string_view field, int f);
  void fillNa(int f, int64_t row);
  void loadVocabularies();
  void prepareColumns(int64_t rows);
  void dropSkippedRows(bool allowAll);
  void internGroups();
  void finishColumns();

  template <typename... Args>
  [[noreturn]] void failAt(const Line& line, int col, fmt::format_string<Args...> format,
                           Args&&... args) const {
    fail("{}:{}:{}: {}", Paths[line.file], lineNumber(line), col + 1,
         fmt::format(format, std::forward<Args>(args)...));
  }
  /// The line's number in its file (a byte share's lines count from its
  /// start; the lines before it are counted here, for the message only).
  int64_t lineNumber(const Line& line) const {
    if (ShareStart.empty() || ShareStart[size_t(line.file)] == 0)
      return line.number;
    const size_t f = size_t(line.file);
    return lineNumberAt(Paths[f], ShareStart[f]) + line.number - 1;
  }
  /// The data lines to parse: every file's, or under mpirun this rank's.
  std::vector<Line> dataLines();
  std::vector<Line> wholeFileLines();

  std::vector<std::string> Paths;
  std::string Path;  // the first file, whose header is bound
  const ModelPlan& Plan;
  ReadOptions Options;
  std::vector<std::string> Texts;  // each file's text read (read()); rows point into them
  std::vector<int64_t> ShareStart;  // per file: where a byte share's text starts (LineShard.h)
  char Delim = ',';
  std::vector<std::string> Header;  // the header row's names, or the model's column list
  const char* Layout = "the header";  // where Header comes from, for messages
  std::vector<std::vector<Target>> Targets;  // per header column
  std::vector<std::string> GroupColumns;
  std::vector<std::vector<std::string_view>> GroupText;  // per group slot
  std::vector<std::vector<std::string_view>> KeepText;   // per Options.keep column
  std::vector<std::unique_ptr<Vocabulary>> Vocabs;       // per feature (lookup "vocab")
  std::vector<char> Skipped;                             // per row (--unseen skip)
  std::atomic<int64_t> OovIds{0};
  DataSet Data;
};

void Reader::loadVocabularies() {
  Vocabs.resize(Plan.features.size());
  for (size_t f = 0; f < Plan.features.size(); ++f) {
    const FeatureSpec& spec = Plan.features[f];
    if (spec.lookup != "vocab")
      continue;
    Vocabs[f] = std::make_unique<Vocabulary>(spec.vocabFile);
    if (Vocabs[f]->size() != spec.vocab)
      fail("{}: vocabulary file of '{}' now has {} values, but the model was built with "
           "{} (ids 1..{}, 0 out of vocabulary); rebuild the model from its .rec file",
           spec.vocabFile, spec.name, Vocabs[f]->size() - 1, spec.vocab - 1, spec.vocab - 1);
  }
}

void Reader::bind(const std::string& column, Target target, bool required) {
  for (size_t c = 0; c < Header.size(); ++c)
    if (Header[c] == column) {
      Targets[c].push_back(std::move(target));
      return;
    }
  if (required)
    fail("{}: missing column '{}' ({}); {} has: {}", Path, column, target.describe,
         Plan.columns.empty() ? "header" : Layout, fmt::join(Header, ", "));
}

/// Whether `step` reads feature `name` (its values, its embedding rows, or the
/// rows of a shadow table it indexes).
bool stepReads(const StepSpec& step, const std::string& name) {
  using R = BufferSpec::Role;
  return std::any_of(step.buffers.begin(), step.buffers.end(), [&](const BufferSpec& b) {
    return ((b.role == R::Feature || b.role == R::EmbeddingRows) && b.name == name) ||
           (b.role == R::State && b.ids == name);
  });
}

std::vector<std::string> Reader::headerNames(const Line& header) const {
  std::vector<std::string_view> fields;
  splitFields(header.text, Delim, fields);
  std::vector<std::string> names;
  for (size_t c = 0; c < fields.size(); ++c) {
    std::string name(fields[c]);
    if (c == 0 && name.starts_with("\xEF\xBB\xBF"))  // UTF-8 byte order mark
      name = cleanField(std::string_view(name).substr(3), Delim);
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name && !name.empty())
        fail("{}:{}: column '{}' appears twice in the header (columns {} and {})",
             Paths[header.file], header.number, name, k + 1, c + 1);
    names.push_back(std::move(name));
  }
  return names;
}

bool Reader::acceptFirstLine(const Line& first) {
  if (headerless()) {
    if (first.file == 0)
      bindColumnList(first);
    return true;
  }
  if (first.file == 0) {
    bindHeader(first);
    return false;
  }
  const std::string& path = Paths[first.file];
  if (pickDelimiter(path, first.text) != Delim)
    fail("{}:{}: delimiter differs from that of {} ('{}' here, '{}' there): the files of "
         "one data flag must share one format", path, first.number, Path,
         pickDelimiter(path, first.text) == '\t' ? "tab" : ",", Delim == '\t' ? "tab" : ",");
  std::vector<std::string> names = headerNames(first);
  if (names != Header)
    fail("{}:{}: header differs from that of {}: '{}' here, '{}' there (the files of one "
         "data flag must have the same columns in the same order)", path, first.number, Path,
         fmt::join(names, ","), fmt::join(Header, ","));
  return false;
}

void Reader::bindHeader(const Line& header) {
  Delim = pickDelimiter(Path, header.text);
  Header = headerNames(header);
  bindTargets();
}

/// A headerless file (the model's `columns [...]`): fields map to the listed
/// columns by position, and the first line is data, even if it looks like a
/// header.
void Reader::bindColumnList(const Line& first) {
  Delim = Plan.delimiter == "tab"     ? '\t'
          : Plan.delimiter == "comma" ? ','
                                      : pickDelimiter(Path, first.text);
  Header = Plan.columns;
  Layout = "the model's 'columns' list";
  bindTargets();
}

void Reader::bindTargets() {
  Targets.assign(Header.size(), {});
  const auto otherStream = [&](int64_t stream) {
    return Options.stream >= 0 && stream != Options.stream;
  };
  for (size_t f = 0; f < Plan.features.size(); ++f) {
    if (otherStream(Plan.features[f].stream))
      continue;
    const bool required =
        !Options.requiredBy || stepReads(*Options.requiredBy, Plan.features[f].name);
    if (required || !Options.onlyRequired)
      bind(Plan.features[f].column,
           {Target::Feature, int(f), fmt::format("model feature '{}'", Plan.features[f].name)},
           required);
  }
  for (size_t k = 0; k < Options.keep.size(); ++k)
    bind(Options.keep[k], {Target::Keep, int(k), "--keep column"}, /*required=*/true);
  for (size_t l = 0; l < Plan.labels.size(); ++l)
    if (!otherStream(Plan.labels[l].stream))
      bind(Plan.labels[l].column,
           {Target::Label, int(l), fmt::format("model label '{}'", Plan.labels[l].name)},
           Options.requireLabels);
  for (const MetricSpec& m : Plan.metrics)
    if (!m.groupColumn.empty() && !otherStream(0) &&
        std::find(GroupColumns.begin(), GroupColumns.end(), m.groupColumn) ==
            GroupColumns.end()) {
      GroupColumns.push_back(m.groupColumn);
      bind(m.groupColumn,
           {Target::Group, int(GroupColumns.size() - 1),
            fmt::format("group column of metric '{}'", m.name)},
           Options.requireGroups);
    }
}

float Reader::parseFloat(const Line& line, int col, std::string_view field,
                         const char* what) {
  const std::string& name = Header[col];
  if (field.empty())
    failAt(line, col, "empty value in column '{}'{}", name,
           std::string_view(what) == "label" ? "" : kNoNa);
  std::string_view digits = field[0] == '+' ? field.substr(1) : field;
  float value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range && end == digits.data() + digits.size()) {
    // Too small for a float (1e-50) rounds to zero or a denormal, as other
    // readers do; only too large (1e50) is an error.
    value = std::strtof(std::string(digits).c_str(), nullptr);
    if (std::isinf(value))
      failAt(line, col, "value '{}' is out of float range in column '{}'", field, name);
    ec = std::errc();
  }
  if (ec != std::errc() || end != digits.data() + digits.size())
    failAt(line, col, "non-numeric value '{}' in column '{}'", field, name);
  if (std::isnan(value))
    failAt(line, col, "NaN in {} column '{}'", what, name);
  if (std::isinf(value))
    failAt(line, col, "Inf in {} column '{}'", what, name);
  return value;
}

/// Where in a bag-of-words cell a token sits, for messages: "" outside bags.
std::string bagPlace(int64_t element, int64_t word) {
  return element < 0 ? "" : fmt::format(" at element {}, word {}", element + 1, word + 1);
}

int64_t Reader::parseId(const Line& line, int col, std::string_view token, int f,
                        int64_t element, int64_t word) {
  const FeatureSpec& spec = Plan.features[f];
  if (token.empty())
    failAt(line, col, "empty {} in column '{}'{}", element < 0 ? "id" : "word id",
           Header[col], element < 0 && spec.kind == FeatureSpec::Kind::Categorical
                            ? kNoNa : bagPlace(element, word));
  if (spec.lookup == "hash")
    return hashBucket(token, spec.vocab);
  if (spec.lookup == "vocab") {
    int64_t id = Vocabs[f]->lookup(token);
    if (id == Vocabulary::kOutOfVocabulary)
      ++rowOovIds;
    return id;
  }
  if (spec.lookup == "bucketize")
    return bucketOf(spec.boundaries, parseFloat(line, col, token, "bucketized"));
  int64_t id = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
  if (ec != std::errc() || p != token.data() + token.size()) {
    double x;
    auto [q, ec2] = std::from_chars(token.data(), token.data() + token.size(), x);
    if (ec2 == std::errc() && q == token.data() + token.size())
      failAt(line, col, "non-integer id '{}' in column '{}'{}", token, Header[col],
             bagPlace(element, word));
    failAt(line, col, "non-numeric value '{}' in column '{}'{}", token, Header[col],
           bagPlace(element, word));
  }
  if (id < 0 || id >= spec.vocab)
    return unseenId(line, col, id, f, element, word);
  return id;
}

int64_t Reader::unseenId(const Line& line, int col, int64_t id, int f, int64_t element,
                         int64_t word) {
  const FeatureSpec& spec = Plan.features[f];
  switch (Options.unseen) {
  case UnseenPolicy::Oov:
    ++rowOovIds;
    return 0;
  case UnseenPolicy::Skip:
    throw SkipRow{};
  case UnseenPolicy::Refuse:
    break;
  }
  failAt(line, col, "id {} out of range for '{}' (vocabulary {}){}{}", id, spec.name,
         spec.vocab, bagPlace(element, word),
         Options.unseenHint ? "; --unseen oov maps such ids to id 0, --unseen skip skips "
                              "their rows"
                            : "");
}

/// The value of dense feature `f`, checked against its transform's domain.
float Reader::parseDense(const Line& line, int col, std::string_view field, int f) {
  float x = parseFloat(line, col, field, "dense");
  if (Plan.features[f].transform == "log1p" && !(x > -1))
    failAt(line, col, "value {} in column '{}' is outside the domain of log1p (> -1)",
           field, Header[col]);
  return x;
}

/// An empty cell of feature `f` that declares `na = x`.
void Reader::fillNa(int f, int64_t row) {
  const FeatureSpec& spec = Plan.features[f];
  if (spec.kind == FeatureSpec::Kind::Dense)
    Data.dense(f)[row] = static_cast<float>(spec.na);
  else
    Data.ids(f)[row * Data.width(f)] = static_cast<int64_t>(spec.na);
}

void Reader::parseIds(const Line& line, int col, std::string_view field, int f,
                      int64_t row) {
  const FeatureSpec& spec = Plan.features[f];
  if (spec.words > 0)
    return parseBags(line, col, field, f, row);
  const int64_t width = Data.width(f);
  int64_t* out = Data.ids(f).data() + row * width;
  const bool multi = spec.kind == FeatureSpec::Kind::MultiCategorical;
  if (field.empty() && multi)
    return;  // no ids: all padding
  int64_t k = 0;
  size_t pos = 0;
  while (true) {
    size_t end = multi ? field.find('|', pos) : std::string_view::npos;
    int64_t id = parseId(line, col, field.substr(pos, end - pos), f);
    if (k < width)
      out[k++] = id;
    if (end == std::string_view::npos)
      return;
    pos = end + 1;
  }
}

/// A bag of words per element: elements '|'-separated, the words of one
/// element ';'-separated ("12;7;3|5;9"). An empty element is an empty bag
/// (it still takes its position); an empty cell has no elements. Elements past
/// maxLen and words past `words` are checked, then dropped; the rest of the
/// [maxLen, words] block stays -1.
void Reader::parseBags(const Line& line, int col, std::string_view field, int f,
                       int64_t row) {
  const FeatureSpec& spec = Plan.features[f];
  int64_t* out = Data.ids(f).data() + row * Data.width(f);
  if (field.empty())
    return;
  int64_t element = 0;
  size_t pos = 0;
  while (true) {
    size_t end = field.find('|', pos);
    std::string_view bag = field.substr(pos, end - pos);
    size_t at = 0;
    for (int64_t word = 0; !bag.empty(); ++word) {
      size_t stop = bag.find(';', at);
      int64_t id = parseId(line, col, bag.substr(at, stop - at), f, element, word);
      if (element < spec.maxLen && word < spec.words)
        out[element * spec.words + word] = id;
      if (stop == std::string_view::npos)
        break;
      at = stop + 1;
    }
    ++element;
    if (end == std::string_view::npos)
      return;
    pos = end + 1;
  }
}

void Reader::parseRow(const Line& line, int64_t row, std::vector<std::string_view>& fields) {
  splitFields(line.text, Delim, fields);
  if (fields.size() != Header.size())
    fail("{}:{}: expected {} fields as in {}, found {}", Paths[line.file], lineNumber(line),
         Header.size(), Layout, fields.size());
  for (size_t c = 0; c < Targets.size(); ++c)
    for (const Target& t : Targets[c]) {
      int col = static_cast<int>(c);
      if (t.kind == Target::Keep) {
        KeepText[t.index][row] = fields[c];
      } else if (t.kind == Target::Group) {
        GroupText[t.index][row] = fields[c];
      } else if (t.kind == Target::Label) {
        float y = parseFloat(line, col, fields[c], "label");
        if (y < 0 || y > 1)
          failAt(line, col, "label '{}' must be in [0, 1], got {}",
                 Plan.labels[t.index].name, fields[c]);
        Data.label(t.index)[row] = y;
      } else if (fields[c].empty() && Plan.features[t.index].hasNa) {
        fillNa(t.index, row);
      } else if (Plan.features[t.index].kind == FeatureSpec::Kind::Dense) {
        Data.dense(t.index)[row] = parseDense(line, col, fields[c], t.index);
      } else {
        parseIds(line, col, fields[c], t.index, row);
      }
    }
}

void Reader::parseRows(const std::vector<Line>& lines) {
  std::mutex mutex;
  std::atomic<int64_t> errorLine{std::numeric_limits<int64_t>::max()};
  std::string error;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, lines.size(), 2048),
                    [&](const tbb::blocked_range<size_t>& r) {
    std::vector<std::string_view> fields;
    for (size_t i = r.begin(); i < r.end(); ++i) {
      if (lines[i].number > errorLine.load(std::memory_order_relaxed))
        return;
      try {
        rowOovIds = 0;
        parseRow(lines[i], static_cast<int64_t>(i), fields);
        if (rowOovIds > 0)
          OovIds.fetch_add(rowOovIds, std::memory_order_relaxed);
      } catch (const SkipRow&) {
        Skipped[i] = 1;  // each row writes only its own flag
      } catch (const RuntimeError& e) {
        std::lock_guard lock(mutex);
        if (lines[i].number < errorLine) {
          errorLine = lines[i].number;
          error = e.what();
        }
        return;
      }
    }
  });
  if (!error.empty())
    throw RuntimeError(error);
}

void Reader::internGroups() {
  for (size_t g = 0; g < GroupText.size(); ++g) {
    if (GroupText[g].empty())
      continue;
    std::unordered_map<std::string_view, int64_t> ids;
    std::vector<int64_t>& out = Data.groupsMut(GroupColumns[g]);
    std::vector<std::string>& names = Data.groupNamesMut(GroupColumns[g]);
    out.resize(GroupText[g].size());
    for (size_t i = 0; i < out.size(); ++i) {
      auto [it, added] = ids.try_emplace(GroupText[g][i], static_cast<int64_t>(ids.size()));
      if (added)
        names.emplace_back(GroupText[g][i]);
      out[i] = it->second;
    }
  }
}

/// Every file's data lines, each file read whole (the first file's header
/// bound, the later files' checked and left out); under mpirun only this
/// rank's range of rows is kept.
std::vector<Line> Reader::wholeFileLines() {
  std::vector<Line> lines;
  Texts.reserve(Paths.size());  // no reallocation: lines point into the texts
  for (size_t i = 0; i < Paths.size(); ++i) {
    Texts.push_back(readWholeText(Paths[i], "data file"));
    std::vector<Line> ofFile = splitLines(Texts.back(), static_cast<int>(i));
    if (ofFile.empty())
      fail("{}: empty file ({})", Paths[i], headerless() ? "no data rows" : "expected a header row");
    const size_t skip = acceptFirstLine(ofFile[0]) ? 0 : 1;
    lines.insert(lines.end(), ofFile.begin() + static_cast<std::ptrdiff_t>(skip), ofFile.end());
  }
  if (lines.empty())
    fail("{}: no data rows{}", Paths.size() == 1 ? Path : describeFiles(Paths),
         headerless() ? "" : " after the header");
  const int64_t all = static_cast<int64_t>(lines.size());
  const int64_t begin = all * Options.shardIndex / Options.shardCount;
  const int64_t end = all * (Options.shardIndex + 1) / Options.shardCount;
  lines.erase(lines.begin() + std::ptrdiff_t(end), lines.end());
  lines.erase(lines.begin(), lines.begin() + std::ptrdiff_t(begin));
  return lines;
}

std::vector<Line> Reader::dataLines() {
  // Under mpirun a rank reads only its share of plain files' bytes.
  if (Options.shardCount > 1) {
    std::optional<LineShard> share =
        readLineShard(Paths, Options.shardIndex, Options.shardCount,
                      [&](const Line& first) { return acceptFirstLine(first); }, headerless());
    if (share) {
      Texts = std::move(share->texts);
      ShareStart = std::move(share->textStart);
      return std::move(share->lines);
    }
  }
  return wholeFileLines();
}

DataSet Reader::read() {
  std::vector<Line> lines = dataLines();
  const int64_t rows = static_cast<int64_t>(lines.size());
  Data = DataSet(Plan, rows, /*withLabels=*/false, /*withGroups=*/false);
  Data.setSource(Paths.size() == 1 ? Path : describeFiles(Paths));
  prepareColumns(rows);
  parseRows(lines);
  // One shard may have no rows, or lose all its rows to --unseen skip, while
  // the others keep theirs.
  dropSkippedRows(/*allowAll=*/Options.shardCount > 1);
  finishColumns();
  return std::move(Data);
}

void Reader::prepareColumns(int64_t rows) {
  GroupText.resize(GroupColumns.size());
  for (const auto& targets : Targets)
    for (const Target& t : targets) {
      if (t.kind == Target::Label)
        Data.addLabelColumn(t.index);
      if (t.kind == Target::Group)
        GroupText[t.index].resize(rows);
    }
  KeepText.assign(Options.keep.size(), std::vector<std::string_view>(rows));
  Skipped.assign(rows, 0);
}

void Reader::finishColumns() {
  internGroups();
  for (size_t k = 0; k < Options.keep.size(); ++k)
    Data.keptMut(Options.keep[k]).assign(KeepText[k].begin(), KeepText[k].end());
}

DataSet Reader::parseChunk(const std::vector<Line>& lines) {
  const int64_t rows = static_cast<int64_t>(lines.size());
  Data = DataSet(Plan, rows, /*withLabels=*/false, /*withGroups=*/false);
  Data.setSource(lines.empty() ? Path : Paths[lines[0].file]);
  GroupText.assign(GroupColumns.size(), {});
  OovIds = 0;
  prepareColumns(rows);
  parseRows(lines);
  dropSkippedRows(/*allowAll=*/true);
  finishColumns();
  return std::move(Data);
}

/// Drops the rows --unseen skip skipped (their group text too) and records
/// the counts.
void Reader::dropSkippedRows(bool allowAll) {
  const int64_t skipped = std::count(Skipped.begin(), Skipped.end(), char(1));
  Data.setUnseen({skipped, OovIds.load()});
  if (skipped == 0)
    return;
  if (skipped == Data.rows() && !allowAll)
    fail("{}: all {} rows were skipped (--unseen skip): each has an id outside its "
         "input's vocabulary", Data.source(), skipped);
  for (auto* columns : {&GroupText, &KeepText})
    for (auto& text : *columns) {
      if (text.empty())
        continue;
      size_t to = 0;
      for (size_t from = 0; from < text.size(); ++from)
        if (!Skipped[from])
          text[to++] = text[from];
      text.resize(to);
    }
  for (char& k : Skipped)
    k = !k;  // now: keep
  Data = keepRows(Plan, Data, Skipped);
}

} // namespace

UnseenPolicy unseenPolicy(const std::string& name) {
  if (name == "error")
    return UnseenPolicy::Refuse;
  if (name == "oov")
    return UnseenPolicy::Oov;
  if (name == "skip")
    return UnseenPolicy::Skip;
  fail("--unseen: expected error, oov or skip, got '{}'", name);
}

ReadOptions evalReadOptions(const ModelPlan& plan) {
  ReadOptions options;
  options.requiredBy = &plan.evalStep;
  return options;
}

DataSet readDataFile(const std::string& path, const ModelPlan& plan,
                     const ReadOptions& options) {
  return Reader({path}, plan, options).read();
}

/// DataChunks' state: the reader (header bound once, shared parsing) and the
/// lines of the files (LineSource.h).
struct DataChunks::Impl {
  Impl(std::vector<std::string> paths, const ModelPlan& plan, const ReadOptions& options)
      : Read(paths, plan, options),
        Lines(std::move(paths), [this](const Line& first) { return Read.acceptFirstLine(first); },
              Read.headerless()) {}

  Reader Read;
  LineSource Lines;
  int64_t RowsSoFar = 0;
};

DataChunks::DataChunks(std::vector<std::string> paths, const ModelPlan& plan,
                       const ReadOptions& options) {
  if (paths.empty())
    fail("no data file given");
  P = std::make_unique<Impl>(std::move(paths), plan, options);
}

DataChunks::~DataChunks() = default;

DataSet DataChunks::next(int64_t rows) {
  rows = std::max<int64_t>(rows, 1);
  for (;;) {
    std::string text;
    std::vector<Line> lines = P->Lines.take(rows, text);
    if (lines.empty()) {
      if (P->RowsSoFar == 0)
        fail("{}: no data rows{}", describeFiles(P->Lines.files()),
             P->Read.headerless() ? "" : " after the header");
      return DataSet();
    }
    DataSet chunk = P->Read.parseChunk(lines);
    P->RowsSoFar += static_cast<int64_t>(lines.size());
    if (chunk.rows() > 0)  // every row skipped (--unseen skip): read on
      return chunk;
  }
}

DataSet readDataFiles(const std::vector<std::string>& paths, const ModelPlan& plan,
                      const ReadOptions& options) {
  if (paths.empty())
    fail("no data file given");
  return Reader(paths, plan, options).read();
}

} // namespace recc::rt
