// ChunkPipe: parsing overlapped with training. A reader thread reads data
// files a chunk of rows at a time (DataChunks, CsvReader.h) and hands the
// chunks over through a queue of at most `depth` chunks, so the trainer works
// on one chunk while the next ones are parsed, and memory holds at most
// depth + 2 chunks (queued, being parsed, being consumed). Chunks come in
// file order whatever the thread timing; an error of the reader (a bad row)
// is raised by next() in its place in that order.
#pragma once

#include "runtime/CsvReader.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace recc::rt {

class ChunkPipe {
public:
  /// Starts reading `files` (opened here, so that a missing vocabulary or
  /// file is reported at once) in chunks of `chunkRows` rows.
  ChunkPipe(std::vector<std::string> files, const ModelPlan& plan, const ReadOptions& options,
            int64_t chunkRows, size_t depth = 2);
  /// Stops the reader (after the chunk it is parsing) and waits for it.
  ~ChunkPipe();
  ChunkPipe(const ChunkPipe&) = delete;
  ChunkPipe& operator=(const ChunkPipe&) = delete;

  /// The next chunk in file order; a data set of 0 rows at the end.
  DataSet next();

private:
  void run();

  DataChunks Chunks;
  int64_t ChunkRows;
  size_t Depth;
  std::mutex Mutex;
  std::condition_variable Changed;
  std::deque<DataSet> Queue;
  bool Done = false;  // the reader has finished (end of data or error)
  bool Stop = false;  // the consumer has gone
  std::exception_ptr Error;
  std::thread Reader;  // last: started when everything above exists
};

} // namespace recc::rt
