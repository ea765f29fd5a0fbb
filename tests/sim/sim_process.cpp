#include "tests/sim/sim_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/testing/child_process.h"
#include "tests/sim/media_cache.h"

extern char** environ;

namespace custodian::sim {

namespace {

constexpr int kQuitGraceMs = 5000;
constexpr int kMediaTimeoutMs = 600'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;   // write end of the child's stdin
  int stdout_fd = -1;  // read end of the child's stdout
};

// Starts `args` with pipes on stdin and stdout; stderr is shared with this process so the
// simulator's logs appear in the test's output. Pipe ends are close-on-exec, so other
// children (ffmpeg, ...) do not keep the simulator's stdin open.
Result<Child> Spawn(const std::vector<std::string>& args) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  if (pipe2(out, O_CLOEXEC) != 0) {
    int err = errno;
    close(in[0]);
    close(in[1]);
    return ErrnoStatus("pipe", err);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Child child;
  int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return ErrnoStatus("spawn " + args[0], rc);
  }
  child.stdin_fd = in[1];
  child.stdout_fd = out[0];
  return child;
}

// Reads one line from fd within the deadline, keeping any extra bytes in *pending.
Result<std::string> ReadLineFrom(int fd, std::string* pending, int64_t deadline_ms) {
  for (;;) {
    size_t nl = pending->find('\n');
    if (nl != std::string::npos) {
      std::string line = pending->substr(0, nl);
      pending->erase(0, nl + 1);
      return line;
    }
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return Unavailable("custodian-sim did not answer in time");
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (rc <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return Unavailable("custodian-sim exited");
    if (n < 0 && errno != EINTR && errno != EAGAIN) return ErrnoStatus("read", errno);
    if (n > 0) pending->append(buf, static_cast<size_t>(n));
  }
}

// Writes all of `data` without risking SIGPIPE should the simulator have died.
bool WriteAll(int fd, const std::string& data) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = write(fd, data.data(), data.size());
  if (n < 0 && errno == EPIPE) {
    timespec no_wait{};
    sigtimedwait(&pipe_set, nullptr, &no_wait);  // consume the SIGPIPE we caused
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return n == static_cast<ssize_t>(data.size());
}

}  // namespace

std::string SimulatorBinary() { return CUSTODIAN_SIM_BINARY; }

Result<std::unique_ptr<SimulatorProcess>> SimulatorProcess::Start(
    const std::vector<std::string>& stream_specs, SimulatorOptions options) {
  std::vector<std::string> args = {
      options.binary,
      "--port",
      "0",
      "--quit-on-eof",
      "--media-dir",
      options.media_dir.empty() ? DefaultMediaDir() : options.media_dir};
  for (const std::string& spec : stream_specs) {
    args.push_back("--stream");
    args.push_back(spec);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  auto child = Spawn(args);
  if (!child.ok()) return child.status();
  std::unique_ptr<SimulatorProcess> sim(new SimulatorProcess(
      child->pid, child->stdin_fd, child->stdout_fd, options.command_timeout_ms));

  const std::string kReady = "ready ";
  int64_t deadline = NowMs() + options.ready_timeout_ms;
  for (;;) {
    auto line = ReadLineFrom(sim->stdout_fd_, &sim->pending_, deadline);
    if (!line.ok()) {
      return Unavailable("custodian-sim did not become ready: " + line.status().message() +
                         " (its stderr has the reason)");
    }
    if (line->rfind(kReady, 0) != 0) continue;
    sim->base_url_ = line->substr(kReady.size());
    size_t colon = sim->base_url_.rfind(':');
    sim->port_ = colon == std::string::npos ? 0 : std::atoi(sim->base_url_.c_str() + colon + 1);
    return sim;
  }
}

SimulatorProcess::SimulatorProcess(pid_t pid, int stdin_fd, int stdout_fd, int command_timeout_ms)
    : pid_(pid),
      stdin_fd_(stdin_fd),
      stdout_fd_(stdout_fd),
      command_timeout_ms_(command_timeout_ms) {}

SimulatorProcess::~SimulatorProcess() { Stop(); }

int SimulatorProcess::Stop() {
  if (pid_ < 0) return -1;
  WriteAll(stdin_fd_, "quit\n");
  close(stdin_fd_);
  // "quit" normally ends it at once; if not, SIGTERM and a grace period before any SIGKILL,
  // so that a sanitized simulator always finishes writing its report.
  int status = 0;
  int code = testing::WaitChild(pid_, kQuitGraceMs, &status)
                 ? (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))
                 : testing::StopChild(pid_);
  close(stdout_fd_);
  pid_ = -1;
  return code;
}

std::string SimulatorProcess::Url(const std::string& name) const { return base_url_ + "/" + name; }

std::string SimulatorProcess::Url(const std::string& name, const std::string& user,
                                  const std::string& password) const {
  const std::string scheme = "rtsp://";
  return scheme + user + ":" + password + "@" + base_url_.substr(scheme.size()) + "/" + name;
}

Result<std::string> SimulatorProcess::Transact(const std::string& command) {
  if (!WriteAll(stdin_fd_, command + "\n")) {
    return Unavailable("cannot write to custodian-sim");
  }
  const std::string ok = "ok " + command;
  const std::string error = "error " + command + ":";
  int64_t deadline = NowMs() + command_timeout_ms_;
  for (;;) {
    auto reply = ReadLineFrom(stdout_fd_, &pending_, deadline);
    if (!reply.ok()) return reply.status();
    if (*reply == ok) return std::string();
    if (reply->rfind(ok + " ", 0) == 0) return reply->substr(ok.size() + 1);
    if (reply->rfind(error, 0) == 0) {
      return InvalidArgument("custodian-sim: " + reply->substr(error.size() + 1));
    }
  }
}

Status SimulatorProcess::Command(const std::string& command) {
  auto reply = Transact(command);
  return reply.ok() ? Status::Ok() : reply.status();
}

Result<int> SimulatorProcess::ClientCount(const std::string& name) {
  auto reply = Transact("clients " + name);
  if (!reply.ok()) return reply.status();
  return std::atoi(reply->c_str());
}

Result<std::string> EnsureTestMedia(const MediaSpec& spec, const std::string& media_dir) {
  std::vector<std::string> args = {SimulatorBinary(), "--cached-media", "--media-dir",
                                   media_dir.empty() ? DefaultMediaDir() : media_dir};
  for (const std::string& f : ToMediaFlags(spec)) args.push_back(f);
  auto child = Spawn(args);
  if (!child.ok()) return child.status();
  close(child->stdin_fd);
  std::string pending;
  auto path = ReadLineFrom(child->stdout_fd, &pending, NowMs() + kMediaTimeoutMs);
  close(child->stdout_fd);
  if (!path.ok()) kill(child->pid, SIGKILL);
  int status = 0;
  waitpid(child->pid, &status, 0);
  if (!path.ok() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Internal("custodian-sim --cached-media failed for " + MediaFileName(spec) +
                    " (its stderr has the reason)");
  }
  return *path;
}

}  // namespace custodian::sim
