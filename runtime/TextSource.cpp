// TextSource: see TextSource.h. Compressed bytes go through an input buffer
// of kInBlock bytes; zlib's inflate (windowBits 15 + 32: gzip or zlib header)
// and libzstd's streaming decoder write straight into the caller's buffer.
#include "runtime/TextSource.h"

#include "runtime/Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace recc::rt {
namespace {
constexpr size_t kInBlock = 256 * 1024;
} // namespace

struct TextSource::Impl {
  std::string Path;
  const char* What;
  int Fd = -1;
  long long Size = -1;
  Format Fmt = Format::Plain;
  std::vector<char> In = std::vector<char>(kInBlock);
  size_t InPos = 0, InEnd = 0;  // unread input bytes are In[InPos, InEnd)
  bool InEof = false;
  z_stream Z{};
  bool ZOpen = false, ZMemberDone = false;
  ZSTD_DCtx* Zstd = nullptr;
  size_t ZstdLeft = 0;  // ZSTD_decompressStream's hint: 0 at a frame's end

  ~Impl() {
    if (ZOpen) inflateEnd(&Z);
    if (Zstd) ZSTD_freeDCtx(Zstd);
    if (Fd >= 0) ::close(Fd);
  }

  /// Refills In when it is empty; false at the end of the file.
  bool fill() {
    if (InPos < InEnd) return true;
    if (InEof) return false;
    for (;;) {
      ssize_t n = ::read(Fd, In.data(), In.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("{}: cannot read {}: {}", Path, What, std::strerror(errno));
      InPos = 0;
      InEnd = size_t(n);
      InEof = n == 0;
      return n > 0;
    }
  }

  /// Reads until 4 bytes are buffered (or the file ends) and picks the format.
  void sniff() {
    while (!InEof && InEnd < 4) {
      ssize_t n = ::read(Fd, In.data() + InEnd, In.size() - InEnd);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("{}: cannot read {}: {}", Path, What, std::strerror(errno));
      InEnd += size_t(n);
      InEof = n == 0;
    }
    const auto* b = reinterpret_cast<const unsigned char*>(In.data());
    if (InEnd >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      Fmt = Format::Gzip;
      if (inflateInit2(&Z, 15 + 32) != Z_OK) fail("{}: cannot start gzip decoding", Path);
      ZOpen = true;
    } else if (InEnd >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
      Fmt = Format::Zstd;
      Zstd = ZSTD_createDCtx();
      if (!Zstd) fail("{}: cannot start zstd decoding", Path);
    }
  }

  size_t readPlain(char* out, size_t n) {
    if (!fill()) return 0;
    size_t k = std::min(n, InEnd - InPos);
    std::memcpy(out, In.data() + InPos, k);
    InPos += k;
    return k;
  }

  size_t readGzip(char* out, size_t n) {
    const uInt want = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    Z.next_out = reinterpret_cast<Bytef*>(out);
    Z.avail_out = want;
    while (Z.avail_out == want) {
      if (!fill()) {
        if (!ZMemberDone) fail("{}: gzip stream ends early (truncated file?)", Path);
        return 0;
      }
      if (ZMemberDone) {  // another member follows: `cat a.gz b.gz`
        inflateReset(&Z);
        ZMemberDone = false;
      }
      Z.next_in = reinterpret_cast<Bytef*>(In.data() + InPos);
      Z.avail_in = static_cast<uInt>(InEnd - InPos);
      int rc = inflate(&Z, Z_NO_FLUSH);
      InPos = InEnd - Z.avail_in;
      if (rc == Z_STREAM_END) ZMemberDone = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        fail("{}: corrupt gzip data ({})", Path, Z.msg ? Z.msg : "inflate failed");
    }
    return want - Z.avail_out;
  }

  size_t readZstd(char* out, size_t n) {
    ZSTD_outBuffer o{out, n, 0};
    while (o.pos == 0) {
      if (!fill()) {
        if (ZstdLeft != 0) fail("{}: zstd stream ends early (truncated file?)", Path);
        return 0;
      }
      ZSTD_inBuffer i{In.data() + InPos, InEnd - InPos, 0};
      ZstdLeft = ZSTD_decompressStream(Zstd, &o, &i);
      InPos += i.pos;
      if (ZSTD_isError(ZstdLeft))
        fail("{}: corrupt zstd data ({})", Path, ZSTD_getErrorName(ZstdLeft));
    }
    return o.pos;
  }
};

TextSource::TextSource(const std::string& path, const char* what) : P(std::make_unique<Impl>()) {
  P->Path = path;
  P->What = what;
  P->Fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (P->Fd < 0) fail("{}: cannot open {}: {}", path, what, std::strerror(errno));
  struct stat st{};
  if (::fstat(P->Fd, &st) == 0 && S_ISDIR(st.st_mode))
    fail("{}: is a directory, not a {}", path, what);
  if (S_ISREG(st.st_mode)) P->Size = st.st_size;
  P->sniff();
}

TextSource::~TextSource() = default;

size_t TextSource::read(char* out, size_t n) {
  if (n == 0) return 0;
  switch (P->Fmt) {
  case Format::Gzip: return P->readGzip(out, n);
  case Format::Zstd: return P->readZstd(out, n);
  case Format::Plain: break;
  }
  return P->readPlain(out, n);
}

TextSource::Format TextSource::format() const { return P->Fmt; }
const std::string& TextSource::path() const { return P->Path; }
long long TextSource::fileSize() const { return P->Size; }

const char* formatName(TextSource::Format format) {
  switch (format) {
  case TextSource::Format::Gzip: return "gzip";
  case TextSource::Format::Zstd: return "zstd";
  case TextSource::Format::Plain: break;
  }
  return "plain";
}

std::string readWholeText(const std::string& path, const char* what) {
  TextSource source(path, what);
  std::string text;
  if (source.format() == TextSource::Format::Plain && source.fileSize() > 0)
    text.reserve(size_t(source.fileSize()));
  // On the stack, as in readWholeFile: no zero-filled heap buffer per file.
  char buffer[64 * 1024];
  while (size_t n = source.read(buffer, sizeof buffer))
    text.append(buffer, n);
  return text;
}

} // namespace recc::rt
