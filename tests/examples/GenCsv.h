// tests/examples/GenCsv.h: reading the generators' CSV files back in their tests, and
// running a generator with its stderr kept.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace recc::gentest {

namespace fs = std::filesystem;

/// `s` split at `sep`; a trailing separator yields a trailing empty field.
inline std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string f; std::getline(in, f, sep);) out.push_back(f);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  /// The index of column `name`, or -1.
  int col(const std::string &name) const {
    for (size_t k = 0; k < header.size(); ++k)
      if (header[k] == name) return int(k);
    return -1;
  }
  /// The index of a column the test needs: a missing one fails the test (and reads column 0).
  int need(const std::string &name) const {
    int k = col(name);
    if (k < 0) ADD_FAILURE() << "no column " << name;
    return k < 0 ? 0 : k;
  }
  double num(size_t r, const std::string &name) const { return std::stod(rows[r][need(name)]); }
};

inline Csv readCsv(const fs::path &p) {
  std::ifstream in(p);
  Csv csv;
  std::string line;
  std::getline(in, line);
  csv.header = split(line, ',');
  while (std::getline(in, line)) csv.rows.push_back(split(line, ','));
  return csv;
}

inline std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Runs a shell command; its exit status, or -1 if it did not exit normally.
inline int runStatus(const std::string &cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace recc::gentest
