// SafeTensors: see SafeTensors.h. The header is padded with spaces to a
// multiple of 8 bytes (as the reference writer does) so the data section
// starts aligned. Sizes are checked in 64-bit arithmetic before any read.
#include "runtime/SafeTensors.h"

#include "runtime/AtomicFile.h"
#include "runtime/CheckedMath.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace recc::rt {

using Json = nlohmann::json;

namespace {
/// zlib's CRC-32 of `size` bytes, continuing `crc` (start: crc32Of(nullptr, 0)).
uint32_t crc32Of(const void* data, size_t size, uint32_t crc = 0) {
  if (!data)
    return static_cast<uint32_t>(::crc32_z(0, nullptr, 0));
  return static_cast<uint32_t>(::crc32_z(crc, static_cast<const Bytef*>(data), size));
}
} // namespace

namespace {

size_t elementBytes(DType t) { return t == DType::I64 ? 8 : 4; }
const char* dtypeName(DType t) { return t == DType::I64 ? "I64" : "F32"; }

/// Calls `chunk(bytes, size)` over the bytes of `t` in order: its data, or
/// what its `fill` produces, 64 Ki elements at a time.
template <typename F> void forEachChunk(const TensorRef& t, F chunk) {
  const int64_t n = numElements(t.shape);
  const size_t width = elementBytes(t.dtype);
  if (!t.fill) {
    chunk(static_cast<const void*>(t.data), static_cast<size_t>(n) * width);
    return;
  }
  std::vector<char> buffer(static_cast<size_t>(std::min<int64_t>(n, 1 << 16)) * width);
  for (int64_t at = 0; at < n; at += 1 << 16) {
    const int64_t count = std::min<int64_t>(n - at, 1 << 16);
    t.fill(at, count, buffer.data());
    chunk(static_cast<const void*>(buffer.data()), static_cast<size_t>(count) * width);
  }
}

} // namespace

void writeSafeTensors(const std::string& path, const std::vector<TensorRef>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  Json sums = Json::object();
  for (const TensorRef& t : tensors) {
    uint32_t crc = crc32Of(nullptr, 0);
    forEachChunk(t, [&](const void* p, size_t size) { crc = crc32Of(p, size, crc); });
    sums[t.name] = fmt::format("{:08x}", crc);
  }
  std::map<std::string, std::string> meta = metadata;
  meta["crc32"] = sums.dump();
  header["__metadata__"] = meta;
  int64_t offset = 0;
  for (const TensorRef& t : tensors) {
    auto end = checkedMulAdd(numElements(t.shape), elementBytes(t.dtype), offset);
    if (!end)
      fail("{}: tensor '{}' {} ends past 64-bit file offsets", path, t.name,
           shapeString(t.shape));
    header[t.name] = {{"dtype", dtypeName(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, *end}}};
    offset = *end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(uint64_t(text.size()) >> (8 * i));

  AtomicFileWriter out(path);
  out.write(length, sizeof(length));
  out.write(text);
  for (const TensorRef& t : tensors)
    forEachChunk(t, [&](const void* p, size_t size) { out.write(p, size); });
  out.commit();
}

namespace {

/// pread of exactly `size` bytes; false on a short read.
bool readAt(int fd, void* out, uint64_t size, uint64_t offset) {
  char* p = static_cast<char*>(out);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n, size -= static_cast<uint64_t>(n), offset += static_cast<uint64_t>(n);
  }
  return true;
}

} // namespace

SafeTensorsReader::SafeTensorsReader(std::string path) : Path(std::move(path)) {
  Fd = ::open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0)
    fail("{}: cannot open checkpoint: {}", Path, std::strerror(errno));
  // A constructor that throws runs no destructor: the guard closes the file,
  // or every refused checkpoint would leak a descriptor (found by fuzzing:
  // after about a thousand, nothing more could be opened).
  struct CloseUnlessValid {
    int& fd;
    bool valid = false;
    ~CloseUnlessValid() {
      if (!valid) {
        ::close(fd);
        fd = -1;
      }
    }
  } guard{Fd};
  struct stat st{};
  ::fstat(Fd, &st);
  // Tensors are read at their offsets (pread), which needs a regular file.
  if (S_ISDIR(st.st_mode))
    fail("{}: is a directory, not a checkpoint", Path);
  if (!S_ISREG(st.st_mode))
    fail("{}: is not a regular file; a checkpoint cannot be read from a pipe or device", Path);
  const uint64_t fileSize = static_cast<uint64_t>(st.st_size);
  unsigned char length[8];
  if (fileSize < 8 || !readAt(Fd, length, 8, 0))
    fail("{}: truncated: file has {} bytes, fewer than the 8-byte header length",
         Path, fileSize);
  uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i)
    headerSize |= uint64_t(length[i]) << (8 * i);
  if (headerSize > fileSize - 8)
    fail("{}: truncated: header length is {} bytes but the file has {} bytes after it",
         Path, headerSize, fileSize - 8);
  std::string header(headerSize, '\0');
  if (!readAt(Fd, header.data(), headerSize, 8))
    fail("{}: cannot read header", Path);
  DataStart = 8 + headerSize;
  parseHeader(header);
  parseChecksums();
  checkNoOverlap();
  uint64_t needed = 0;
  for (const auto& [name, e] : Entries)
    needed = std::max(needed, e.end);
  if (needed > fileSize - DataStart)
    fail("{}: truncated: header says {} bytes of data, file has {}", Path, needed,
         fileSize - DataStart);
  guard.valid = true;
}

SafeTensorsReader::~SafeTensorsReader() {
  if (Fd >= 0)
    ::close(Fd);
}

void SafeTensorsReader::parseHeader(const std::string& header) {
  Json j;
  try {
    j = Json::parse(header);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for 1e999
    fail("{}: malformed header: {}", Path, e.what());
  }
  if (!j.is_object())
    fail("{}: malformed header: expected a JSON object", Path);
  for (const auto& [name, value] : j.items()) {
    if (name != "__metadata__") {
      parseEntry(name, &value);
      continue;
    }
    if (!value.is_object())
      fail("{}: malformed header: __metadata__ must be an object", Path);
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string())
        fail("{}: malformed header: metadata '{}' must be a string", Path, key);
      Metadata[key] = v.get<std::string>();
    }
  }
}

void SafeTensorsReader::parseEntry(const std::string& name, const void* json) {
  const Json& v = *static_cast<const Json*>(json);
  auto bad = [&](const char* what) {
    fail("{}: malformed header: tensor '{}' {}", Path, name, what);
  };
  if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
      !v.contains("data_offsets"))
    bad("needs dtype, shape and data_offsets");
  if (!v["dtype"].is_string())
    bad("has a non-string dtype");
  if (v["dtype"] != "F32" && v["dtype"] != "I64")
    fail("{}: tensor '{}' has dtype {}; only F32 and I64 are supported", Path, name,
         v["dtype"].get<std::string>());
  Entry e{};
  e.dtype = v["dtype"] == "I64" ? DType::I64 : DType::F32;
  if (!v["shape"].is_array())
    bad("has a shape that is not an array");
  for (const Json& d : v["shape"]) {
    if (!d.is_number_unsigned())
      bad("has a shape that is not a list of non-negative integers");
    if (d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      bad("has an extent larger than 64-bit sizes can count");
    e.shape.push_back(d.get<int64_t>());
  }
  const Json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    bad("has data_offsets that are not two non-negative integers");
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  auto size = checkedMulAdd(checkedProduct(e.shape), elementBytes(e.dtype), 0);
  if (!size)
    fail("{}: malformed header: tensor '{}' has shape {} whose size overflows 64 bits", Path,
         name, shapeString(e.shape));
  uint64_t bytes = static_cast<uint64_t>(*size);
  if (e.end < e.begin || e.end - e.begin != bytes)
    fail("{}: malformed header: tensor '{}' has data_offsets [{}, {}] but shape {} "
         "needs {} bytes", Path, name, e.begin, e.end, shapeString(e.shape), bytes);
  Entries.emplace(name, std::move(e));
}

void SafeTensorsReader::parseChecksums() {
  auto it = Metadata.find("crc32");
  if (it == Metadata.end())
    return;
  Json j = Json::parse(it->second, nullptr, false);
  if (!j.is_object())
    fail("{}: malformed metadata 'crc32': expected a JSON object", Path);
  for (const auto& [name, v] : j.items()) {
    std::string hex = v.is_string() ? v.get<std::string>() : "";
    uint32_t crc = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), crc, 16);
    if (hex.size() != 8 || ec != std::errc() || end != hex.data() + hex.size())
      fail("{}: malformed metadata 'crc32': tensor '{}' has '{}', not 8 hex digits", Path,
           name, hex);
    Checksums[name] = crc;
  }
}

void SafeTensorsReader::checkNoOverlap() const {
  // The format forbids tensors sharing bytes: a write to one would change the
  // other, and a crafted file could alias a checkpoint's tensors.
  std::vector<std::pair<const std::string*, const Entry*>> byBegin;
  for (const auto& [name, e] : Entries)
    if (e.end > e.begin)
      byBegin.push_back({&name, &e});
  std::sort(byBegin.begin(), byBegin.end(),
            [](const auto& a, const auto& b) { return a.second->begin < b.second->begin; });
  for (size_t i = 1; i < byBegin.size(); ++i) {
    const auto& [prevName, prev] = byBegin[i - 1];
    const auto& [name, e] = byBegin[i];
    if (e->begin < prev->end)
      fail("{}: malformed header: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", Path,
           *prevName, prev->begin, prev->end, *name, e->begin, e->end);
  }
}

std::string SafeTensorsReader::meta(const std::string& key,
                                    const std::string& fallback) const {
  auto it = Metadata.find(key);
  return it == Metadata.end() ? fallback : it->second;
}

std::vector<std::string> SafeTensorsReader::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : Entries)
    out.push_back(name);
  return out;
}

void SafeTensorsReader::read(const std::string& name, float* out) const {
  const Entry& e = Entries.at(name);
  if (e.dtype != DType::F32)
    fail("{}: tensor '{}' has dtype {}, not F32", Path, name, dtypeName(e.dtype));
  if (!readAt(Fd, out, e.end - e.begin, DataStart + e.begin))
    fail("{}: cannot read tensor '{}': {}", Path, name, std::strerror(errno));
}

void SafeTensorsReader::readRange(const std::string& name, int64_t first, int64_t count,
                                  void* out) const {
  const Entry& e = Entries.at(name);
  const uint64_t width = elementBytes(e.dtype);
  if (first < 0 || count < 0 || (uint64_t(first) + uint64_t(count)) * width > e.end - e.begin)
    fail("{}: elements [{}, {}) are outside tensor '{}'", Path, first, first + count, name);
  if (!readAt(Fd, out, uint64_t(count) * width, DataStart + e.begin + uint64_t(first) * width))
    fail("{}: cannot read tensor '{}': {}", Path, name, std::strerror(errno));
}

int64_t SafeTensorsReader::verify(const std::string& name) const {
  const Entry& e = Entries.at(name);
  const bool floats = e.dtype == DType::F32;  // I64: the CRC only, as 4-byte words
  const uint64_t count = (e.end - e.begin) / sizeof(float);
  // Chunks of at most 256 KiB, no larger than the tensor: a model has many
  // small tensors, and zero-filling 256 KiB for each was most of a load.
  std::vector<float> chunk(std::max<uint64_t>(1, std::min<uint64_t>(count, uint64_t(1) << 16)));
  int64_t firstBad = -1;
  uint32_t crc = crc32Of(nullptr, 0);
  for (uint64_t at = 0; at < count; at += chunk.size()) {
    const uint64_t n = std::min<uint64_t>(chunk.size(), count - at);
    if (!readAt(Fd, chunk.data(), n * sizeof(float), DataStart + e.begin + at * sizeof(float)))
      fail("{}: cannot read tensor '{}': {}", Path, name, std::strerror(errno));
    crc = crc32Of(chunk.data(), n * sizeof(float), crc);
    for (uint64_t i = 0; floats && i < n && firstBad < 0; ++i)
      if (!std::isfinite(chunk[i]))
        firstBad = static_cast<int64_t>(at + i);
  }
  auto it = Checksums.find(name);
  if (it != Checksums.end() && it->second != crc)
    fail("{}: tensor '{}' fails its CRC-32 check (stored {:08x}, computed {:08x}): the file "
         "is corrupt", Path, name, it->second, crc);
  return firstBad;
}

} // namespace recc::rt
