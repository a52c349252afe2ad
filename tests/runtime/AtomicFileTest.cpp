// Tests of AtomicFile: stale temporary files of dead writers are removed,
// those of live writers and unrelated files are kept.
#include "runtime/AtomicFile.h"

#include "TestUtil.h"

#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace recc::rt {
namespace {

/// The pid of a process that has exited and been reaped.
pid_t deadPid() {
  pid_t pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(AtomicFile, RemovesTemporariesOfDeadWritersOnly) {
  test::TempDir dir;
  const std::string target = dir.file("ckpt.safetensors");
  const std::string dead = fmt::format("{}.tmp-{}-0", target, deadPid());
  const std::string live = fmt::format("{}.tmp-{}-77", target, ::getpid());
  const std::string other = dir.file("other.safetensors.tmp-999999-0");
  const std::string odd = target + ".tmp-notapid-0";
  for (const auto& p : {dead, live, other, odd})
    test::writeText(p, "half a checkpoint");

  writeFileAtomically(target, "complete");

  EXPECT_FALSE(std::filesystem::exists(dead)) << "a dead writer's temporary file stayed";
  EXPECT_TRUE(std::filesystem::exists(live)) << "a live writer's temporary file was removed";
  EXPECT_TRUE(std::filesystem::exists(other)) << "another target's file was removed";
  EXPECT_TRUE(std::filesystem::exists(odd));
  EXPECT_EQ(test::readText(target), "complete");
  EXPECT_EQ(removeStaleTemporaries(target), 0);
}

// A writer killed mid-write (SIGKILL: no destructor runs) leaves its
// temporary file; the next write of the same target removes it.
TEST(AtomicFile, NextWriteRemovesTheFileOfAKilledWriter) {
  test::TempDir dir;
  const std::string target = dir.file("out.bin");
  pid_t child = ::fork();
  if (child == 0) {
    try {
      AtomicFileWriter w(target);
      w.write(std::string(2 << 20, 'x'));  // past the buffer: on disk
      ::kill(::getpid(), SIGKILL);         // while the writer is alive
    } catch (...) {
    }
    ::_exit(1);  // not reached
  }
  ::waitpid(child, nullptr, 0);
  auto count = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      n += e.path().filename().string().starts_with("out.bin.tmp-");
    return n;
  };
  ASSERT_EQ(count(), 1);
  writeFileAtomically(target, "new");
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(test::readText(target), "new");
}

TEST(AtomicFile, CheckCanWriteNamesTheFlagAndThePath) {
  test::TempDir dir;
  EXPECT_EQ(test::errorOf([&] { checkCanWrite("--out", dir.path()); }),
            "--out: cannot write '" + dir.path() + "': it is a directory");
  EXPECT_EQ(test::errorOf([&] { checkCanWrite("--out", dir.file("no/x")); }),
            "--out: cannot write '" + dir.file("no/x") + "': directory '" + dir.file("no") +
                "': No such file or directory");
  EXPECT_EQ(test::errorOf([&] { checkCanWrite("--out", dir.file("x")); }), "<no error>");
  EXPECT_EQ(test::errorOf([&] { checkCanWrite("--out", ""); }), "<no error>");
}

} // namespace
} // namespace recc::rt
