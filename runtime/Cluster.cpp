// Cluster: see Cluster.h. Without RECC_HAVE_MPI every process is rank 0 of 1.
#include "runtime/Cluster.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <cstring>

#ifdef RECC_HAVE_MPI
// The C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace recc::rt {
namespace {

int Rank = 0;
int Size = 1;
bool Joined = false;
std::atomic<int64_t> Sent = 0;  // bytes sent to other ranks, by either thread
bool Overlap = true;             // BackgroundSums on a thread of their own
bool ThreadsAllowed = false;     // MPI_THREAD_MULTIPLE provided

/// Whether an MPI launcher (Open MPI's mpirun, a PMI/PMIx one) started us.
bool launchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var))
      return true;
  return false;
}

#ifdef RECC_HAVE_MPI
/// The communicator of BackgroundSums: collectives on it run beside
/// those on MPI_COMM_WORLD without being ordered against them.
MPI_Comm Background = MPI_COMM_NULL;

/// A byte count as MPI's int, or an error naming what was too large.
int mpiCount(int64_t bytes, const char* what) {
  if (bytes < 0 || bytes > INT_MAX)
    fail("{}: {} bytes in one message exceed MPI's limit of {} ({})", Cluster::where(), bytes,
         INT_MAX, what);
  return static_cast<int>(bytes);
}

/// Each rank's offset in a buffer of `counts` bytes per rank, in rank order;
/// returns the buffer's size.
int64_t offsetsOf(const std::vector<int>& counts, std::vector<int>& at, const char* what) {
  int64_t total = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    at[r] = mpiCount(total, what);
    total += counts[r];
  }
  return total;
}

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("{}: {} failed: {}", Cluster::where(), call, std::string(text, size_t(len)));
}

/// Waits for `request`. `idly`: without spinning, for the background sums'
/// thread, since a blocking MPI wait polls a core at full speed and would take
/// it from the step's threads while the other ranks are still computing.
void await(MPI_Request& request, const char* call, bool idly) {
  if (!idly)
    return check(MPI_Wait(&request, MPI_STATUS_IGNORE), call);
  for (int done = 0;;) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), call);
    if (done)
      return;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

#endif

/// sumInRankOrder: a no-op in one process.
template <typename T>
void sumSegments(std::span<T> values, bool background = false) {
  if (Size == 1)
    return;
#ifdef RECC_HAVE_MPI
  MPI_Comm comm = background ? Background : MPI_COMM_WORLD;
  const int64_t n = static_cast<int64_t>(values.size());
  auto begin = [&](int s) { return n * s / Size; };
  std::vector<int> sendCounts(Size), sendAt(Size), recvCounts(Size), recvAt(Size);
  const int64_t mine = begin(Rank + 1) - begin(Rank);
  for (int s = 0; s < Size; ++s) {
    sendCounts[s] = mpiCount((begin(s + 1) - begin(s)) * int64_t(sizeof(T)), "a gradient segment");
    sendAt[s] = mpiCount(begin(s) * int64_t(sizeof(T)), "a gradient offset");
    recvCounts[s] = mpiCount(mine * int64_t(sizeof(T)), "a gradient segment");
    recvAt[s] = mpiCount(s * mine * int64_t(sizeof(T)), "a gradient offset");
  }
  Sent += (n - mine + mine * (Size - 1)) * int64_t(sizeof(T));
  std::vector<T> parts(size_t(mine) * size_t(Size));
  MPI_Request request;
  check(MPI_Ialltoallv(values.data(), sendCounts.data(), sendAt.data(), MPI_BYTE, parts.data(),
                       recvCounts.data(), recvAt.data(), MPI_BYTE, comm, &request),
        "MPI_Ialltoallv");
  await(request, "MPI_Ialltoallv", background);
  // This rank's segment, summed in rank order.
  std::vector<T> sum(parts.begin(), parts.begin() + mine);
  for (int r = 1; r < Size; ++r)
    for (int64_t i = 0; i < mine; ++i)
      sum[size_t(i)] += parts[size_t(r * mine + i)];
  check(MPI_Iallgatherv(sum.data(), recvCounts[0], MPI_BYTE, values.data(), sendCounts.data(),
                        sendAt.data(), MPI_BYTE, comm, &request),
        "MPI_Iallgatherv");
  await(request, "MPI_Iallgatherv", background);
#else
  (void)values;
  (void)background;
#endif
}

} // namespace

void Cluster::start(int* argc, char*** argv) {
  if (!launchedByMpi())
    return;
#ifdef RECC_HAVE_MPI
  int provided = 0;
  // The main thread calls MPI, and so does BackgroundSums' thread at
  // the same time, on a communicator of its own (the steps' threads never do).
  MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
  ThreadsAllowed = provided >= MPI_THREAD_MULTIPLE;
  // Errors come back as codes (check() turns them into RuntimeErrors) rather
  // than aborting inside MPI with no word of what recc was doing.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &Rank);
  MPI_Comm_size(MPI_COMM_WORLD, &Size);
  MPI_Comm_dup(MPI_COMM_WORLD, &Background);
  MPI_Comm_set_errhandler(Background, MPI_ERRORS_RETURN);
  Joined = true;
#else
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "error: this program was built without MPI, so it cannot run under "
                       "mpirun (a trainer: compile it with `recc compile --ranks N`; recc: "
                       "build it with libopenmpi-dev installed)\n");
  std::exit(1);
#endif
}

void Cluster::stop() {
#ifdef RECC_HAVE_MPI
  if (Joined) {
    MPI_Comm_free(&Background);
    MPI_Finalize();
  }
#endif
  Joined = false;
  Rank = 0;
  Size = 1;
}

int Cluster::rank() { return Rank; }
int64_t Cluster::bytesSent() { return Sent; }
int Cluster::size() { return Size; }

std::string Cluster::where() {
  return Size > 1 ? fmt::format("rank {} of {}", Rank, Size) : "";
}

void Cluster::sumInRankOrder(std::span<float> values) { sumSegments(values); }
void Cluster::sumInRankOrder(std::span<double> values) { sumSegments(values); }

struct BackgroundSums::State {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::span<float>> queue;
  size_t running = 0;  // spans taken off the queue and not yet summed
  bool stop = false;
  double seconds = 0;
  std::exception_ptr error;
  std::thread worker;

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty())
        return;
      std::span<float> values = queue.front();
      queue.pop_front();
      ++running;
      lock.unlock();
      const auto start = std::chrono::steady_clock::now();
      std::exception_ptr failed;
      try {
        if (!error)
          sumSegments(values, true);
      } catch (...) {
        failed = std::current_exception();
      }
      const double took =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      lock.lock();
      seconds += took;
      if (failed && !error)
        error = failed;
      --running;
      changed.notify_all();
    }
  }
};

BackgroundSums::BackgroundSums() : S(std::make_unique<State>()) {
  if (Cluster::overlaps())
    S->worker = std::thread([state = S.get()] { state->run(); });
}

BackgroundSums::~BackgroundSums() {
  {
    std::lock_guard lock(S->mutex);
    S->stop = true;
  }
  S->changed.notify_all();
  if (!S->worker.joinable())
    return;
  // Left by an error, which will end every rank (Cluster::abortAll): the
  // thread may be waiting in a sum the other ranks never join, so it is
  // left to the process's end rather than waited for.
  if (std::uncaught_exceptions() > 0) {
    S->worker.detach();
    S.release();  // the detached thread still uses it
    return;
  }
  S->worker.join();
}

void BackgroundSums::add(std::span<float> values) {
  if (!S->worker.joinable()) {
    const auto start = std::chrono::steady_clock::now();
    sumSegments(values);
    S->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return;
  }
  {
    std::lock_guard lock(S->mutex);
    S->queue.push_back(values);
  }
  S->changed.notify_all();
}

double BackgroundSums::wait() {
  std::unique_lock lock(S->mutex);
  S->changed.wait(lock, [&] { return S->queue.empty() && S->running == 0; });
  const double seconds = std::exchange(S->seconds, 0.0);
  if (S->error)
    std::rethrow_exception(std::exchange(S->error, nullptr));
  return seconds;
}

bool Cluster::overlaps() { return Size > 1 && Overlap && ThreadsAllowed; }
void Cluster::setOverlap(bool on) { Overlap = on; }

std::vector<std::string> Cluster::allGather(std::string_view bytes) {
  if (Size == 1)
    return {std::string(bytes)};
  std::vector<std::string> out(Size);
#ifdef RECC_HAVE_MPI
  int mine = mpiCount(int64_t(bytes.size()), "allGather");
  Sent += int64_t(mine) * (Size - 1);
  std::vector<int> counts(Size), at(Size);
  check(MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
        "MPI_Allgather");
  std::string all(size_t(offsetsOf(counts, at, "allGather")), '\0');
  check(MPI_Allgatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), at.data(),
                       MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Allgatherv");
  for (int r = 0; r < Size; ++r)
    out[r] = all.substr(size_t(at[r]), size_t(counts[r]));
#endif
  return out;
}

std::vector<std::string> Cluster::exchange(const std::vector<std::string>& toRank) {
  if (int(toRank.size()) != Size)
    fail("exchange: {} messages for {} ranks", toRank.size(), Size);
  if (Size == 1)
    return toRank;
  std::vector<std::string> out(Size);
#ifdef RECC_HAVE_MPI
  std::vector<int> sendCounts(Size), sendAt(Size), recvCounts(Size), recvAt(Size);
  std::string send;
  for (int s = 0; s < Size; ++s) {
    sendAt[s] = mpiCount(int64_t(send.size()), "exchange");
    sendCounts[s] = mpiCount(int64_t(toRank[s].size()), "exchange");
    send += toRank[s];
  }
  Sent += int64_t(send.size()) - int64_t(toRank[size_t(Rank)].size());
  check(MPI_Alltoall(sendCounts.data(), 1, MPI_INT, recvCounts.data(), 1, MPI_INT,
                     MPI_COMM_WORLD),
        "MPI_Alltoall");
  std::string recv(size_t(offsetsOf(recvCounts, recvAt, "exchange")), '\0');
  check(MPI_Alltoallv(send.data(), sendCounts.data(), sendAt.data(), MPI_BYTE, recv.data(),
                      recvCounts.data(), recvAt.data(), MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Alltoallv");
  for (int r = 0; r < Size; ++r)
    out[r] = recv.substr(size_t(recvAt[r]), size_t(recvCounts[r]));
#endif
  return out;
}

std::string Cluster::broadcast(std::string bytes) {
#ifdef RECC_HAVE_MPI
  if (Size > 1) {
    int64_t n = int64_t(bytes.size());
    check(MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
    if (Rank == 0)
      Sent += n * (Size - 1);
    bytes.resize(size_t(n));
    check(MPI_Bcast(bytes.data(), mpiCount(n, "broadcast"), MPI_BYTE, 0, MPI_COMM_WORLD),
          "MPI_Bcast");
  }
#endif
  return bytes;
}

void Cluster::barrier() {
#ifdef RECC_HAVE_MPI
  if (Size > 1)
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void Cluster::abortAll(const std::string& message) {
  std::fprintf(stderr, "error: %s%s%s\n", where().c_str(), Size > 1 ? ": " : "",
               message.c_str());
  std::fflush(stderr);
#ifdef RECC_HAVE_MPI
  if (Joined && Size > 1)
    MPI_Abort(MPI_COMM_WORLD, 1);
#endif
  std::exit(1);
}

} // namespace recc::rt
