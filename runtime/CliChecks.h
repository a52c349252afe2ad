// CliChecks: validators for numeric command-line flags. A value that makes no
// sense (`--batch 0`, `--epochs -1`, `--threads -2`) is refused while the
// command line is parsed, with an error naming the flag, e.g.
//   --epochs: must be an integer from 1 to 1000000, got '0'
// instead of being silently replaced by a default later on.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <string>

namespace recc::rt {

/// Accepts a whole decimal integer in [lo, hi]; CLI11 prefixes the message
/// with the flag's name.
inline CLI::Validator intRange(int64_t lo, int64_t hi) {
  std::string description = "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && end == text.data() + text.size() && value >= lo && value <= hi)
          return {};
        return "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
               ", got '" + text + "'";
      },
      description);
}

/// Upper bounds: generous, but small enough that no count derived from a
/// flag overflows (threads for TBB, epochs and steps for 64-bit counters).
inline constexpr int64_t kMaxThreads = 4096;
inline constexpr int64_t kMaxEpochs = 1000000;
inline constexpr int64_t kMaxSteps = 1000000000;
/// Seeds: any integer a double holds exactly, as the plan's JSON does.
inline constexpr int64_t kMaxSeed = int64_t(1) << 53;
/// The largest batch a model may declare (the language's width limit, 2^24).
inline constexpr int64_t kMaxBatch = int64_t(1) << 24;

} // namespace recc::rt
