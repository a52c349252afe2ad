// LineShard: one rank's share of plain data files under mpirun, read without
// the rest. The files' data bytes (each file after its header line) are cut
// into N equal ranges in file order, and rank r takes the lines whose first
// byte lies in range r. In rank order the shares are the files' data lines in
// order, each once, so the rows keep one process's global numbers
// (ShardedData.h). A compressed file or a pipe cannot be read from the
// middle: then readLineShard gives nothing and the caller reads the text
// whole, keeping its range of rows (CsvReader.h's ReadOptions::shardIndex).
//
// A share does not read the text before its range, so its lines are numbered
// from the first line it read; lineNumberAt counts the newlines before a byte,
// which only an error message needs.
#pragma once

#include "runtime/LineSource.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace recc::rt {

struct LineShard {
  std::vector<std::string> texts;  ///< per file: the text read (the lines point into it)
  std::vector<int64_t> textStart;  ///< per file: where texts[i] starts in the file
  std::vector<Line> lines;         ///< the data lines, numbered from textStart's line (1)
};

/// Share `shard` of `shards` of the data lines of `paths`, or nullopt when a
/// file is not a plain regular file. `firstLine` gets each file's first
/// non-blank line (numbered exactly), in file order, and says whether it is
/// data (headerless files) or a header to leave out; `headerless` words the
/// error for an empty file.
std::optional<LineShard> readLineShard(const std::vector<std::string>& paths, int shard,
                                       int shards, const std::function<bool(const Line&)>& firstLine,
                                       bool headerless);

/// The 1-based number of the line that starts at byte `offset` of `path`.
int64_t lineNumberAt(const std::string& path, int64_t offset);

} // namespace recc::rt
