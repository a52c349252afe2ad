// Error: the one exception type the runtime throws for bad input (data files,
// checkpoints, model plans, non-finite losses). It is a std::runtime_error, so
// a driver can catch either; messages already name the place (file:line:col,
// tensor, field) and never start with "error:", because the driver adds it.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace recc::rt {

/// A user-facing runtime failure with a precise, self-contained message.
class RuntimeError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Throws a RuntimeError whose message is formatted with fmt.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw RuntimeError(fmt::format(format, std::forward<Args>(args)...));
}

} // namespace recc::rt
