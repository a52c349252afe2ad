// CsvReader: reads a CSV/TSV file with a header row into a DataSet, keeping
// only the columns the plan names. The delimiter is tab for .tsv, comma for
// .csv, and sniffed from the header otherwise. A model with a column list
// (plan.columns, `columns [...]`: Criteo's headerless layout) maps fields by
// position instead, every line being data; its delimiter is the list's, or
// chosen as above from the first line. Every malformed input is a
// RuntimeError that names the file, the 1-based line and column, the column
// name and the offending text:
//   data.csv: missing column 'user_id' (model feature 'user_id'); header has: a, b
//   data.csv:17:3: non-numeric value 'abc' in column 'price'
//   data.csv:17:2: id 100000 out of range for 'item_id' (vocabulary 100000)
//   data.csv:17:6: non-numeric value 'x' in column 'sq_ws' at element 2, word 2
//   data.csv:17:5: NaN in dense column 'num_3'
//   data.csv:17: expected 5 fields as in the header, found 4
// Hashed ids, vocabulary files and bucketized numbers become ids as
// IdLookup.h says; `na = x` fills empty cells of single ids and dense values.
// Multi-valued ids are '|'-separated, truncated to the first maxLen and padded
// with -1; a bag of words per element (words > 0) separates the words of one
// element by ';' ("12;7;3|5;9|" is three elements, the last an empty bag). Values may be surrounded by spaces or one pair of double quotes;
// quoted fields containing the delimiter are not supported. A dense value
// below float's range (1e-50) rounds to zero or a denormal. The file is read
// to its end (pipes work), never mapped, and gzip / zstd decompressed
// (TextSource.h). docs/data.md
// documents the format. Several files (readDataFiles, DataChunks) read as one.
#pragma once

#include "runtime/DataSet.h"

#include <memory>

namespace recc::rt {

/// What evaluation and prediction do with an integer id outside its input's
/// vocabulary (`--unseen`): refuse the file (the default, and always in
/// training), map the id to id 0, or skip its row. Skipped rows and mapped
/// ids are counted in DataSet::unseen().
enum class UnseenPolicy { Refuse, Oov, Skip };

struct ReadOptions {
  /// Labels must be present (training, evaluation); if false they are read
  /// when the header has them (prediction on unlabeled logs).
  bool requireLabels = true;
  /// GAUC group columns must be present; if false they are read when present.
  bool requireGroups = true;
  /// When set, only the features this step reads must be present; the others
  /// are read when the header has them and otherwise left empty (zeros, or
  /// padding ids), which the step never sees. Evaluation and prediction pass
  /// the eval step, so data need not carry what only the training graph reads
  /// (SAR-Net's Fairness Coefficient, under train_only).
  const StepSpec* requiredBy = nullptr;
  /// With requiredBy: features it does not read are not read at all, even
  /// when the header has them (retrieval reads a corpus or a training file
  /// for a few columns only).
  bool onlyRequired = false;
  /// >= 0: the file holds input stream `stream` of the model (0: the source,
  /// k: its k-th `stream` block; training reads each from its own file).
  /// Only that stream's features and labels are read, and required; group
  /// columns are read for the source only.
  int stream = -1;
  UnseenPolicy unseen = UnseenPolicy::Refuse;
  /// Data columns to carry as text (DataSet::kept), e.g. ids to join scores
  /// back to (`recc predict --keep`); each must be in the header.
  std::vector<std::string> keep;
  /// Refusals name --unseen (evaluation and prediction, which have the flag).
  bool unseenHint = false;
  /// Only shard `shardIndex` of `shardCount`'s rows (ShardedData.h): of plain
  /// files, the lines starting in its 1/n of the data bytes, read without the
  /// rest (LineShard.h); of compressed files and pipes, which are read
  /// whole, data rows [R*i/n, R*(i+1)/n) of the files' R rows. Either way
  /// the shards in order are the rows in order.
  int shardIndex = 0;
  int shardCount = 1;
};

/// The policy named `name` ("error", "oov", "skip"), for --unseen.
UnseenPolicy unseenPolicy(const std::string& name);

/// The read options for data that only `plan`'s eval step runs on.
ReadOptions evalReadOptions(const ModelPlan& plan);

/// Reads `path`; throws a RuntimeError on any malformed input.
DataSet readDataFile(const std::string& path, const ModelPlan& plan,
                     const ReadOptions& options = {});

/// Reads `paths` as one data set: rows in file order; each file must have
/// the same header (a different one is an error naming both files). Files
/// may be gzip or zstd compressed (TextSource.h); errors name the file and
/// the line in its decompressed text.
DataSet readDataFiles(const std::vector<std::string>& paths, const ModelPlan& plan,
                      const ReadOptions& options = {});

/// Reads `paths` like readDataFiles, a chunk of rows at a time, holding only
/// one chunk's text and rows (streaming training, docs/data.md). Group ids
/// are numbered per chunk. Errors are those of readDataFiles, raised when
/// the chunk holding the bad row is read.
class DataChunks {
public:
  DataChunks(std::vector<std::string> paths, const ModelPlan& plan,
             const ReadOptions& options = {});
  ~DataChunks();
  /// The next rows in file order, at most `rows` of them (fewer at the end,
  /// or when --unseen skip drops some); a data set of 0 rows once every file
  /// is read.
  DataSet next(int64_t rows);

private:
  struct Impl;
  std::unique_ptr<Impl> P;
};

} // namespace recc::rt
