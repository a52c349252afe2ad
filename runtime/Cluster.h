// Cluster: the processes one training run spans, over MPI (docs/distributed.md).
// A process started by `mpirun -np N` is one of N ranks; every other process
// is rank 0 of 1, and then every call here is a cheap no-op, so the trainer
// has one code path. MPI is initialized only when mpirun launched the process
// (its environment says so), so plain runs need no MPI runtime at all.
//
// Collectives are deterministic: sumInRankOrder adds the ranks' values in
// rank order 0, 1, ..., N-1 (each rank reduces one segment, then the sums are
// shared), so every rank gets the same bits, whatever MPI's own reduction
// algorithms would do. Dense parameters therefore stay bit-identical on all
// ranks.
//
// Faults: an error on any rank must stop every rank, never leave the others
// waiting in a collective. abortAll prints the rank and the cause and ends the
// whole job (MPI_Abort); mpirun also ends the job when a rank dies.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

class Cluster {
public:
  /// Joins the job if mpirun started this process (MPI_Init); call once,
  /// first thing in main. A recc built without MPI refuses to run under
  /// mpirun with a message saying so.
  static void start(int* argc, char*** argv);
  /// Leaves the job (MPI_Finalize), if start() joined one.
  static void stop();

  static int rank();
  static int size();
  /// More than one rank.
  static bool distributed() { return size() > 1; }
  /// "rank R of N" for messages; empty when not distributed.
  static std::string where();

  /// Every rank's `values` summed element by element, in rank order, into
  /// `values` on every rank (identical bits on all ranks).
  static void sumInRankOrder(std::span<float> values);
  static void sumInRankOrder(std::span<double> values);
  /// Whether BackgroundSums overlap: under mpirun, unless turned off
  /// (`recc train --no-overlap`), where MPI allows threads (MPI_THREAD_MULTIPLE).
  static bool overlaps();
  static void setOverlap(bool on);
  /// Every rank's `bytes`, in rank order.
  static std::vector<std::string> allGather(std::string_view bytes);
  /// Sends toRank[s] to rank s (toRank.size() == size()); returns what each
  /// rank sent to this one, in rank order.
  static std::vector<std::string> exchange(const std::vector<std::string>& toRank);
  /// Rank 0's `bytes` on every rank.
  static std::string broadcast(std::string bytes);
  static void barrier();
  /// Bytes this rank has sent to other ranks through the calls above.
  static int64_t bytesSent();

  /// Prints "error: rank R of N: message" and ends every rank of the job
  /// with exit status 1; a single process just exits with status 1.
  [[noreturn]] static void abortAll(const std::string& message);
};

/// sumInRankOrder on a thread of its own, over a communicator of its own, for
/// each span added, in the order added, while the caller goes on and may call
/// the other collectives (a step's dense gradients are summed while the
/// backward pass finishes, the row gradients are exchanged and the sparse
/// update runs). Every rank adds spans of the same sizes in the same order.
/// Without overlap add() sums at once, on the caller's thread.
class BackgroundSums {
public:
  BackgroundSums();
  ~BackgroundSums();
  BackgroundSums(const BackgroundSums&) = delete;
  BackgroundSums& operator=(const BackgroundSums&) = delete;

  /// Queues `values` (which must stay valid until wait() returns).
  void add(std::span<float> values);
  /// Waits until every span added is summed; returns the seconds the sums
  /// took since the last wait, and rethrows the error of one that failed.
  double wait();

private:
  struct State;
  std::unique_ptr<State> S;
};

/// Joins the job for the life of main() (start, then stop on return).
class ClusterScope {
public:
  ClusterScope(int* argc, char*** argv) { Cluster::start(argc, argv); }
  ~ClusterScope() { Cluster::stop(); }
  ClusterScope(const ClusterScope&) = delete;
  ClusterScope& operator=(const ClusterScope&) = delete;
};

/// Sums of small values in rank order (a few counters or losses).
inline double sumOverRanks(double x) {
  Cluster::sumInRankOrder(std::span<double>(&x, 1));
  return x;
}

} // namespace recc::rt
