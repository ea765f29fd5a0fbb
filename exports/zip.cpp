#include "exports/zip.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "base/filesystem.h"

namespace custodian::exports {

namespace {

// No 0/O, 1/l/I: the password is read off a screen and typed in elsewhere.
// 7z's output on a failure is a few lines; more than this is not read into memory.
constexpr uint64_t kMaxLogBytes = 1 << 20;

constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

std::string ParentOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string GeneratePassword() {
  if (sodium_init() < 0) std::abort();
  constexpr uint32_t kSize = sizeof kAlphabet - 1;
  std::string out;
  for (int i = 0; i < 24; ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += kAlphabet[randombytes_uniform(kSize)];
  }
  return out;
}

Result<std::string> Find7z() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::istringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    for (const char* name : {"7z", "7za", "7zz"}) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return Unavailable(
      "7-Zip is not installed (Debian package p7zip-full); cannot make an "
      "encrypted zip");
}

Status MakeEncryptedZip(const std::string& package_dir, const std::string& zip_path,
                        const std::string& password) {
  auto sevenzip = Find7z();
  if (!sevenzip.ok()) return sevenzip.status();
  if (::access(zip_path.c_str(), F_OK) == 0) return AlreadyExists(zip_path + " exists already");
  const std::string log_path = zip_path + ".log";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  // Absolute archive path: 7z runs in the package's parent directory so that entries are
  // "export-N/...".
  std::string archive = zip_path;
  if (!archive.empty() && archive[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) archive = std::string(cwd) + "/" + archive;
  }
  std::vector<std::string> args = {
      *sevenzip, "a",  "-tzip", "-mem=AES256",      "-mx=0", "-p", "-y",
      "-bd",     "--", archive, BaseOf(package_dir)};
  // Written before the fork, while this process holds the read end too: the pipe's buffer
  // keeps it for 7z, and no SIGPIPE can come from a child that exited early.
  const std::string line = password + "\n";
  const bool written =
      ::write(pipe_fds[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(pipe_fds[1]);
  if (!written) {
    ::close(pipe_fds[0]);
    return IoError("cannot pass the password to 7z");
  }
  // Everything the child needs is prepared here: between fork and exec a multithreaded
  // process may only make async-signal-safe calls (no allocation).
  const std::string workdir = ParentOf(package_dir);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    return ErrnoStatus("fork", errno);
  }
  if (pid == 0) {
    ::dup2(pipe_fds[0], 0);
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    if (::chdir(workdir.c_str()) != 0) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // 7z's own output, for the message should it fail; only its tail is kept.
  auto& fs = PosixFilesystem::Instance();
  auto log = ReadFileToString(fs, log_path, kMaxLogBytes);
  (void)fs.Unlink(log_path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    (void)fs.Unlink(zip_path);  // 7z writes the zip itself; a failed one is not kept
    std::string msg = log.ok() ? *log : "(its output not read: " + log.status().message() + ")";
    if (msg.size() > 400) msg = msg.substr(msg.size() - 400);
    return IoError("7z failed (status " + std::to_string(status) + "): " + msg);
  }
  return Status::Ok();
}

}  // namespace custodian::exports
