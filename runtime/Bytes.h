// Bytes: values packed into a byte string and read back in the same order,
// for the messages ranks exchange under mpirun (Cluster.h). Every rank runs
// the same code, so a message holds no types or names, only values; a reader
// that runs past the end (the ranks disagree about the model) throws a
// RuntimeError naming what it was reading, never reads out of bounds.
#pragma once

#include "runtime/Cluster.h"
#include "runtime/Error.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

/// Appends `n` values (their bytes) to `out`.
template <typename T>
void putValues(std::string& out, const T* values, size_t n) {
  out.append(reinterpret_cast<const char*>(values), n * sizeof(T));
}
template <typename T>
void putValue(std::string& out, const T& value) {
  putValues(out, &value, 1);
}
/// Appends the count (int64), then the values.
template <typename T>
void putCounted(std::string& out, std::span<const T> values) {
  putValue(out, int64_t(values.size()));
  putValues(out, values.data(), values.size());
}

class ByteReader {
public:
  /// `what` names the message in errors ("packed rows").
  ByteReader(std::string_view bytes, const char* what) : Bytes(bytes), What(what) {}

  /// The next `n` bytes.
  const char* take(size_t n) {
    if (Bytes.size() - Pos < n)
      fail("{}: {} end after {} bytes, {} more expected (do all ranks run the same model?)",
           Cluster::where(), What, Bytes.size(), n - (Bytes.size() - Pos));
    const char* p = Bytes.data() + Pos;
    Pos += n;
    return p;
  }
  template <typename T>
  void read(T* out, size_t n) {
    std::memcpy(out, take(n * sizeof(T)), n * sizeof(T));
  }
  template <typename T>
  T get() {
    T v;
    read(&v, 1);
    return v;
  }
  /// Appends what putCounted wrote to `into`.
  template <typename T>
  void appendCounted(std::vector<T>& into) {
    const size_t n = size_t(get<int64_t>()), at = into.size();
    into.resize(at + n);
    read(into.data() + at, n);
  }
  /// Bytes read so far.
  size_t position() const { return Pos; }

private:
  std::string_view Bytes;
  const char* What;
  size_t Pos = 0;
};

/// Every rank's `value`, in rank order (a collective call).
template <typename T>
std::vector<T> allGatherValue(const T& value) {
  std::string mine;
  putValue(mine, value);
  std::vector<T> all;
  for (const std::string& rank : Cluster::allGather(mine))
    all.push_back(ByteReader(rank, "a gathered value").get<T>());
  return all;
}

} // namespace recc::rt
