// examples/common/Cli.h: command-line handling shared by the data generators.
//
// Flags are "--name value" or "--name=value"; boolean flags take no value. Every error
// names the flag and exits with status 2 after a pointer to --help, so a script that
// passes a bad value learns which one.
#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace recc::gen {

class Cli {
public:
  /// `program` prefixes every message; `usage` is printed by --help / -h.
  Cli(std::string program, std::string usage) : program_(std::move(program)), usage_(std::move(usage)) {}

  [[noreturn]] void fail(const std::string &msg) const;

  /// Walks `args`: --help prints the usage and exits 0; a name in `booleans` calls
  /// onFlag(name, ""); any other "--name" takes a value (the next argument or after '=')
  /// and calls onFlag(name, value). The callback rejects unknown names with unknown().
  void parse(std::span<char *> args, std::initializer_list<std::string_view> booleans,
             const std::function<void(std::string_view, std::string_view)> &onFlag) const;

  [[noreturn]] void unknown(std::string_view flag) const {
    fail("unknown flag '" + std::string(flag) + "'");
  }

  /// `text` as a T in [lo, hi], or an error naming `flag`.
  template <class T> T number(std::string_view flag, std::string_view text, T lo, T hi) const {
    T v{};
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size())
      fail("'" + std::string(flag) + "' expects a number, got '" + std::string(text) + "'");
    if (!(v >= lo && v <= hi))
      fail("'" + std::string(flag) + "' must be in [" + show(lo) + ", " + show(hi) + "], got '" +
           std::string(text) + "'");
    return v;
  }

private:
  template <class T> static std::string show(T x) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
  }
  std::string program_, usage_;
};

} // namespace recc::gen
