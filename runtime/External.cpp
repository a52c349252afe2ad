// External: see External.h. posix_spawnp reports a program missing from PATH
// as ENOENT before anything runs; the script goes through a pipe, with
// SIGPIPE ignored meanwhile so that a program that exits early is an error
// status, not a killed recc.
#include "runtime/External.h"

#include "runtime/Error.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

extern char** environ;

namespace recc::rt {
namespace {

/// Writes all of `input` to `fd`; false if the reader went away.
bool writeAll(int fd, const std::string& input) {
  size_t done = 0;
  while (done < input.size()) {
    ssize_t n = ::write(fd, input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += size_t(n);
  }
  return true;
}

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

} // namespace

void runExternal(const ExternalTool& tool, const std::vector<std::string>& args,
                 const std::string& input) {
  int fds[2];
  if (::pipe(fds) != 0)
    fail("{}: cannot make a pipe: {}", tool.purpose, std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> argv{const_cast<char*>(tool.program.c_str())};
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, tool.program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (err != 0) {
    ::close(fds[1]);
    if (err == ENOENT)
      fail("{} needs '{}', which is not installed (Debian: apt-get install {}; or run "
               "scripts/install-deps.sh)", tool.purpose, tool.program, tool.package);
    fail("{}: cannot run '{}': {}", tool.purpose, tool.program, std::strerror(err));
  }
  auto* previous = std::signal(SIGPIPE, SIG_IGN);
  const bool fed = writeAll(fds[1], input);
  ::close(fds[1]);
  const int status = waitFor(pid);
  std::signal(SIGPIPE, previous);
  if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("{}: '{}' failed ({}){}", tool.purpose, tool.program,
             status >= 0 && WIFEXITED(status)
                 ? "exit status " + std::to_string(WEXITSTATUS(status))
                 : std::string("killed"),
             fed ? "" : " before reading all its input");
}

void checkWritten(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0)
    fail("{} wrote nothing to {}", what, path);
}

} // namespace recc::rt
