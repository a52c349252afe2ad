// examples/sarnet/Behaviours.h: each user's cross-scenario behaviour log (spec 1.1, group 2).
//
// A behaviour is an item the user interacted with, the scenario context it happened in
// and when. Each user starts the window with a history of up to 50 behaviours from the
// month before (drawn lazily, from a seed of its own, so that the calibration pass and the
// writing passes see the same one), and every click in the window is appended. Requests
// read the 50 most recent behaviours before them.
#pragma once

#include "examples/sarnet/SarnetWorld.h"

#include <span>
#include <vector>

namespace recc::sarnet {

constexpr double kWindowHours = 720;  // the 30 days the files cover; history lies before 0

struct Behaviour {
  int item = 0;
  int scnId = 0;
  float hours = 0;  // when, on the window's clock (negative: before the window)
};

/// Log-bucketised time gap to the request (spec 7.3): 0 is the request's own bucket,
/// 1 + floor(log2(1 + gap)) for a gap in hours, at most 15.
int timeBucket(double gapHours);

/// The month of behaviours user u had before the window, oldest first.
std::vector<Behaviour> preWindowHistory(const World &w, int u);

/// preWindowHistory, drawn once per user and kept: every pass over the impression stream
/// (calibration, fairness totals, writing) reads the same histories.
class PreWindowHistories {
public:
  explicit PreWindowHistories(const World &w) : world_(w), cache_(kUsers), drawn_(kUsers, 0) {}
  const std::vector<Behaviour> &of(int u) {
    if (!drawn_[u]) cache_[u] = preWindowHistory(world_, u), drawn_[u] = 1;
    return cache_[u];
  }

private:
  const World &world_;
  std::vector<std::vector<Behaviour>> cache_;
  std::vector<uint8_t> drawn_;
};

/// A ring of the last kSeqLen behaviours per user, filled from preWindowHistory on first use.
class UserHistories {
public:
  explicit UserHistories(PreWindowHistories &pre)
      : pre_(pre), ring_(size_t(kUsers) * kSeqLen), count_(kUsers, -1), head_(kUsers, 0) {}

  void push(int u, const Behaviour &b);
  /// The user's behaviours, most recent first, into `out` (capacity kSeqLen); returns how many.
  int recent(int u, std::span<Behaviour> out);

private:
  void ensure(int u);
  PreWindowHistories &pre_;
  std::vector<Behaviour> ring_;
  std::vector<int> count_, head_;  // count_ -1: not drawn yet
};

} // namespace recc::sarnet
