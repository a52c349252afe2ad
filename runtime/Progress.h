// Progress: the one-line training progress report on stderr:
//   epoch 1/3  step 1200/5000  48.2k samples/s  loss 0.4213  ETA 1:19
// On a terminal the line is rewritten in place ('\r') at most twice a second;
// when stderr is a file or pipe (logs, CI) plain lines are written at most
// every `plainInterval` seconds, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace recc::rt {

class ProgressLine {
public:
  /// `out` null disables output.
  explicit ProgressLine(std::FILE* out, double plainInterval = 10.0);

  /// Starts timing an epoch of `totalSteps` steps.
  void startEpoch(int64_t epoch, int64_t epochs, int64_t totalSteps);
  /// Reports `step` steps and `samples` rows done this epoch; prints if due.
  void update(int64_t step, int64_t samples, double meanLoss);
  /// Ends the in-place line and prints `summary` as a line of its own.
  void finish(const std::string& summary);
  /// Seconds since startEpoch.
  double elapsed() const;

private:
  std::string line(int64_t step, int64_t samples, double meanLoss) const;
  using Clock = std::chrono::steady_clock;
  std::FILE* Out;
  bool Tty;
  double Interval;
  Clock::time_point Start, LastPrint;
  int64_t Epoch = 0, Epochs = 0, Total = 0;
  bool Dirty = false;
};

/// "12.3k" / "1.24M" style counts for samples/s.
std::string humanCount(double value);
/// "1:05:09" / "4:07" durations.
std::string humanDuration(double seconds);

} // namespace recc::rt
