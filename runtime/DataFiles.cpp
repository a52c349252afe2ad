// DataFiles: see DataFiles.h.
#include "runtime/DataFiles.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cctype>

#include <glob.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace recc::rt {
namespace {

bool hasGlobChars(const std::string& item) {
  return item.find_first_of("*?[") != std::string::npos;
}

/// The sorted matches of `pattern` (glob(3) sorts them).
std::vector<std::string> matches(const std::string& flag, const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (rc == GLOB_NOMATCH || (rc == 0 && out.empty()))
    fail("{} '{}': no file matches", flag, pattern);
  if (rc != 0) fail("{} '{}': cannot list the matching files", flag, pattern);
  return out;
}

/// The extension of `path` in lower case ("" if none).
std::string lowerExtension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return {};
  std::string ext = path.substr(dot);
  for (char& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

/// The extension of `path` in lower case, past a compression suffix
/// ("x.TSV.gz" -> ".tsv"): the format is sniffed, the suffix names the text.
std::string textExtension(const std::string& path) {
  std::string ext = lowerExtension(path);
  if (ext == ".gz" || ext == ".zst" || ext == ".zstd")
    return lowerExtension(path.substr(0, path.size() - ext.size()));
  return ext;
}

} // namespace

std::vector<std::string> expandDataFiles(const std::string& flag,
                                         const std::vector<std::string>& values) {
  std::vector<std::string> files;
  for (const std::string& value : values) {
    size_t pos = 0;
    for (;;) {
      const size_t comma = value.find(',', pos);
      const std::string item = value.substr(pos, comma - pos);
      if (item.empty())
        fail("{} '{}': empty file name in the list", flag, value);
      if (hasGlobChars(item)) {
        for (std::string& m : matches(flag, item)) files.push_back(std::move(m));
      } else {
        struct stat st{};
        if (::stat(item.c_str(), &st) != 0) fail("{} {}: no such file", flag, item);
        files.push_back(item);
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (files.empty()) fail("{}: no data file given", flag);
  return files;
}

std::string describeFiles(const std::vector<std::string>& files) {
  return fmt::format("{}", fmt::join(files, ", "));
}

char pickDelimiter(const std::string& path, std::string_view header) {
  std::string ext = textExtension(path);
  if (ext == ".tsv")
    return '\t';
  if (ext == ".csv")
    return ',';
  size_t tabs = std::count(header.begin(), header.end(), '\t');
  size_t commas = std::count(header.begin(), header.end(), ',');
  return tabs > commas ? '\t' : ',';
}

} // namespace recc::rt
