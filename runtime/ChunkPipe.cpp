// ChunkPipe: see ChunkPipe.h.
#include "runtime/ChunkPipe.h"

namespace recc::rt {

ChunkPipe::ChunkPipe(std::vector<std::string> files, const ModelPlan& plan,
                     const ReadOptions& options, int64_t chunkRows, size_t depth)
    : Chunks(std::move(files), plan, options), ChunkRows(chunkRows),
      Depth(std::max<size_t>(depth, 1)), Reader([this] { run(); }) {}

ChunkPipe::~ChunkPipe() {
  {
    std::lock_guard lock(Mutex);
    Stop = true;
  }
  Changed.notify_all();
  Reader.join();
}

void ChunkPipe::run() {
  for (;;) {
    DataSet chunk;
    std::exception_ptr error;
    try {
      chunk = Chunks.next(ChunkRows);
    } catch (...) {
      error = std::current_exception();
    }
    std::unique_lock lock(Mutex);
    Changed.wait(lock, [&] { return Stop || Queue.size() < Depth; });
    if (Stop)
      return;
    const bool end = error || chunk.rows() == 0;
    if (end) {
      Done = true;
      Error = error;
    } else {
      Queue.push_back(std::move(chunk));
    }
    lock.unlock();
    Changed.notify_all();
    if (end)
      return;
  }
}

DataSet ChunkPipe::next() {
  std::unique_lock lock(Mutex);
  Changed.wait(lock, [&] { return !Queue.empty() || Done; });
  if (Queue.empty()) {
    if (Error)
      std::rethrow_exception(Error);
    return DataSet();
  }
  DataSet chunk = std::move(Queue.front());
  Queue.pop_front();
  lock.unlock();
  Changed.notify_all();
  return chunk;
}

} // namespace recc::rt
