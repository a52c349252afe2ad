// IdLookup: see IdLookup.h. The hash is the packaged farmhash library's
// (Debian's libfarmhash-dev), not a copy of it.
#include "runtime/IdLookup.h"

#include "runtime/Error.h"
#include "runtime/FileRead.h"

#include <farmhash.h>

#include <algorithm>
#include <filesystem>

namespace recc::rt {

uint64_t fingerprint64(std::string_view text) {
  return util::Fingerprint64(text.data(), text.size());
}

int64_t bucketOf(std::span<const double> boundaries, double x) {
  return std::upper_bound(boundaries.begin(), boundaries.end(), x) - boundaries.begin();
}

namespace {
std::string_view trimmed(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string_view::npos)
    return {};
  return line.substr(b, line.find_last_not_of(" \t") - b + 1);
}
} // namespace

namespace {
/// A vocabulary is read whole when a model is compiled: a device or a pipe
/// (a mistyped `vocab = "/dev/zero"`) would never end, so only regular files.
const std::string& regularFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    fail("{}: not a regular file (a vocabulary file has one value per line)", path);
  return path;
}
} // namespace

Vocabulary::Vocabulary(const std::string& path)
    : Path(path), Text(readWholeFile(regularFile(path), "vocabulary file")) {
  std::string_view text = Text;
  int64_t number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view value = trimmed(text.substr(pos, end - pos));
    ++number;
    pos = end + 1;
    if (value.empty())
      fail("{}:{}: empty line (a vocabulary file has one value per line; id {} is "
           "the out-of-vocabulary id)", Path, number, kOutOfVocabulary);
    auto [it, added] = Ids.try_emplace(value, number);
    if (!added)
      fail("{}:{}: value '{}' appears twice (first on line {})", Path, number, value,
           it->second);
  }
  if (Ids.empty())
    fail("{}: no values (a vocabulary file has one value per line)", Path);
}

} // namespace recc::rt
