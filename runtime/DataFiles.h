// DataFiles: the list of files one data flag names, and the delimiter a
// file's name implies. `--data` (and
// `--eval-data`, `--stream NAME=...`, eval/predict's `--data`) may be repeated
// and each value may be a comma-separated list; each item is a path or a
// shell-style glob (glob(3): `*`, `?`, `[...]`), whose matches are taken in
// sorted order. Files are read in the order given. A glob that matches
// nothing and a missing file are errors naming the flag and the item:
//   --data 'logs/day*.csv': no file matches
//   --data logs/day9.csv: no such file
// An item without glob characters is kept as is, so pipes and process
// substitutions (`--data <(zcat x.gz)`) still work.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

/// The files `values` of flag `flag` name, in order (see above).
std::vector<std::string> expandDataFiles(const std::string& flag,
                                         const std::vector<std::string>& values);

/// `files` as one string for messages and metrics ("a.csv, b.csv").
std::string describeFiles(const std::vector<std::string>& files);

/// The delimiter of data file `path` given its first line: tab for a .tsv
/// name, comma for .csv (past a .gz/.zst suffix: "x.TSV.gz" is tab-separated),
/// otherwise whichever the line has more of.
char pickDelimiter(const std::string& path, std::string_view header);

} // namespace recc::rt
