// examples/common/Cli.cpp: flag splitting and usage errors.
#include "examples/common/Cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace recc::gen {

void Cli::fail(const std::string &msg) const {
  std::fprintf(stderr, "%s: %s\n(run '%s --help' for usage)\n", program_.c_str(), msg.c_str(),
               program_.c_str());
  std::exit(2);
}

void Cli::parse(std::span<char *> args, std::initializer_list<std::string_view> booleans,
                const std::function<void(std::string_view, std::string_view)> &onFlag) const {
  for (size_t k = 0; k < args.size(); ++k) {
    std::string_view a = args[k], v;
    if (a == "--help" || a == "-h") std::fputs(usage_.c_str(), stdout), std::exit(0);
    if (std::find(booleans.begin(), booleans.end(), a) != booleans.end()) {
      onFlag(a, "");
      continue;
    }
    if (!a.starts_with("--")) fail("unexpected argument '" + std::string(a) + "'");
    if (auto eq = a.find('='); eq != a.npos)
      v = a.substr(eq + 1), a = a.substr(0, eq);
    else if (k + 1 < args.size())
      v = args[++k];
    else
      fail("'" + std::string(a) + "' needs a value");
    onFlag(a, v);
  }
}

} // namespace recc::gen
