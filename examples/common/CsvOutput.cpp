// examples/common/CsvOutput.cpp: atomic output files and terminal progress.
#include "examples/common/CsvOutput.h"

#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace recc::gen {

bool makeOutputDir(const std::string &program, const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    std::fprintf(stderr, "%s: cannot create '%s': %s\n", program.c_str(), dir.c_str(),
                 ec.message().c_str());
  return !ec;
}

OutputFile::OutputFile(std::string program, std::string path)
    : program_(std::move(program)), path_(std::move(path)) {
  std::error_code ec;
  auto kind = std::filesystem::status(path_, ec).type();
  viaTmp_ = path_ != "-" && (kind == std::filesystem::file_type::not_found ||
                             kind == std::filesystem::file_type::regular);
  tmp_ = viaTmp_ ? path_ + ".tmp" : path_;
  f_ = path_ == "-" ? stdout : std::fopen(tmp_.c_str(), "wb");
  if (!f_) std::perror((program_ + ": cannot open '" + tmp_ + "'").c_str()), done_ = true;
}

OutputFile::~OutputFile() {
  if (done_) return;
  if (f_ && f_ != stdout) std::fclose(f_);
  if (viaTmp_) std::remove(tmp_.c_str());
}

bool OutputFile::commit(bool ok) {
  ok = (f_ == stdout ? std::fflush(f_) == 0 : std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (ok && viaTmp_) ok = std::rename(tmp_.c_str(), path_.c_str()) == 0;
  if (!ok) {
    std::perror((program_ + ": cannot write '" + path_ + "'").c_str());
    if (viaTmp_) std::remove(tmp_.c_str());
  }
  done_ = true;
  return ok;
}

Progress::Progress(std::string name, long long total)
    : name_(std::move(name)), total_(total), enabled_(isatty(STDERR_FILENO) == 1),
      last_(std::chrono::steady_clock::now()) {}

void Progress::draw(long long done) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(500)) return;
  last_ = now, drawn_ = true;
  std::fprintf(stderr, "\r%s: %lld / %lld rows", name_.c_str(), done, total_);
}

void Progress::finish() {
  if (drawn_) std::fputs("\r\033[K", stderr), drawn_ = false;
}

} // namespace recc::gen
