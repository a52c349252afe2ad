// Progress: see Progress.h.
#include "runtime/Progress.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>

namespace recc::rt {

std::string humanCount(double v) {
  if (v >= 1e6)
    return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4)
    return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string humanDuration(double seconds) {
  if (!std::isfinite(seconds))
    return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

ProgressLine::ProgressLine(std::FILE* out, double plainInterval)
    : Out(out), Tty(out && ::isatty(::fileno(out))),
      Interval(Tty ? 0.5 : plainInterval) {}

void ProgressLine::startEpoch(int64_t epoch, int64_t epochs, int64_t totalSteps) {
  Epoch = epoch, Epochs = epochs, Total = totalSteps;
  Start = LastPrint = Clock::now();
}

double ProgressLine::elapsed() const {
  return std::chrono::duration<double>(Clock::now() - Start).count();
}

std::string ProgressLine::line(int64_t step, int64_t samples, double meanLoss) const {
  double secs = elapsed();
  double rate = secs > 0 ? samples / secs : 0;
  double eta = step > 0 ? secs / step * (Total - step) : NAN;
  return fmt::format("epoch {}/{}  step {}/{}  {} samples/s  loss {:.4f}  ETA {}", Epoch,
                     Epochs, step, Total, humanCount(rate), meanLoss, humanDuration(eta));
}

void ProgressLine::update(int64_t step, int64_t samples, double meanLoss) {
  if (!Out)
    return;
  auto now = Clock::now();
  if (std::chrono::duration<double>(now - LastPrint).count() < Interval)
    return;
  LastPrint = now;
  std::string text = line(step, samples, meanLoss);
  if (Tty) {
    fmt::print(Out, "\r{}\033[K", text);
    Dirty = true;
  } else {
    fmt::print(Out, "{}\n", text);
  }
  std::fflush(Out);
}

void ProgressLine::finish(const std::string& summary) {
  if (!Out)
    return;
  if (Dirty)
    fmt::print(Out, "\r\033[K");
  Dirty = false;
  fmt::print(Out, "{}\n", summary);
  std::fflush(Out);
}

} // namespace recc::rt
