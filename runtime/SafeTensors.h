// SafeTensors: reading and writing the safetensors format (as used by Hugging
// Face), so checkpoints open in any tool that reads it:
//   [8-byte little-endian N][N bytes of JSON header][raw tensor bytes]
// The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end)} relative to the data section, plus "__metadata__", a map of
// strings. Only F32 and I64 (little-endian) are written or read. The reader validates the whole header
// up front (sizes, offsets, dtypes) so a truncated or corrupt file fails with
// a precise message before anything is loaded, then reads tensors one at a
// time straight into their destination buffers (tables can be gigabytes).
//
// Integrity: the writer stores a CRC-32 (zlib's) of every tensor's bytes in
// the metadata entry "crc32", a JSON object {"<tensor>": "<8 hex digits>"};
// verify() checks it, so a flipped bit is an error instead of a silently
// different weight. Tensors without an entry (files of other tools) are not
// checked.
#pragma once

#include "runtime/Tensor.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace recc::rt {

/// The element types written and read: F32 (every value) and I64 (the ids
/// of a dynamic table's rows).
enum class DType { F32, I64 };

/// A tensor to write: a name, a shape and its row-major data.
struct TensorRef {
  std::string name;
  Shape shape;
  const float* data;  ///< F32 data, or null when `fill` produces the elements
  DType dtype = DType::F32;
  /// Writes elements [first, first + count) to `out` (4 or 8 bytes each):
  /// for tensors not held contiguously, e.g. a dynamic table's rows in id
  /// order, which are produced in chunks instead of copied whole.
  std::function<void(int64_t first, int64_t count, void* out)> fill = {};
};

/// Writes `tensors` and `metadata` to `path` atomically (see AtomicFile.h).
void writeSafeTensors(const std::string& path, const std::vector<TensorRef>& tensors,
                      const std::map<std::string, std::string>& metadata);

class SafeTensorsReader {
public:
  /// Opens and validates `path`; throws a RuntimeError naming the file and
  /// the problem (truncated, malformed header, unsupported dtype, ...).
  explicit SafeTensorsReader(std::string path);
  ~SafeTensorsReader();
  SafeTensorsReader(const SafeTensorsReader&) = delete;
  SafeTensorsReader& operator=(const SafeTensorsReader&) = delete;

  const std::string& path() const { return Path; }
  const std::map<std::string, std::string>& metadata() const { return Metadata; }
  /// Metadata value, or `fallback` if absent.
  std::string meta(const std::string& key, const std::string& fallback = "") const;
  bool has(const std::string& name) const { return Entries.count(name) > 0; }
  /// Shape of tensor `name` (which must exist).
  const Shape& shape(const std::string& name) const { return Entries.at(name).shape; }
  std::vector<std::string> names() const;
  DType dtype(const std::string& name) const { return Entries.at(name).dtype; }
  /// Reads F32 tensor `name` into `out` (numElements(shape(name)) floats).
  void read(const std::string& name, float* out) const;
  /// Reads elements [first, first + count) of tensor `name` (4 or 8 bytes
  /// each, by its dtype) into `out`.
  void readRange(const std::string& name, int64_t first, int64_t count, void* out) const;
  /// Reads tensor `name` in small chunks (so it can vet a table before
  /// loading it), checks its CRC-32 if it has one (throwing a RuntimeError
  /// naming the tensor if it does not match) and returns the index of its
  /// first NaN or infinite element, or -1 (always -1 for I64).
  int64_t verify(const std::string& name) const;

private:
  struct Entry {
    Shape shape;
    uint64_t begin, end;
    DType dtype = DType::F32;
  };
  void parseHeader(const std::string& header);
  void parseEntry(const std::string& name, const void* json);
  void checkNoOverlap() const;
  void parseChecksums();

  std::string Path;
  int Fd = -1;
  uint64_t DataStart = 0;
  std::map<std::string, Entry> Entries;
  std::map<std::string, uint32_t> Checksums;  ///< from metadata "crc32"
  std::map<std::string, std::string> Metadata;
};

} // namespace recc::rt
