#include "base/filesystem.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

using namespace custodian;

static std::string TempDir() {
  char tmpl[] = "/tmp/custodian-fs-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

TEST_CASE("files are created, written, listed and unlinked") {
  auto& fs = PosixFilesystem::Instance();
  std::string dir = JoinPath(TempDir(), "a/b/c");
  REQUIRE(fs.CreateDirs(dir).ok());
  auto f = fs.Create(JoinPath(dir, "x.bin"));
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("hello", 5).ok());
  REQUIRE((*f)->Sync().ok());
  REQUIRE((*f)->Close().ok());
  REQUIRE(*fs.FileSize(JoinPath(dir, "x.bin")) == 5);
  auto list = fs.List(dir);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  REQUIRE(fs.Unlink(JoinPath(dir, "x.bin")).ok());
  REQUIRE_FALSE(fs.Exists(JoinPath(dir, "x.bin")));
  REQUIRE(fs.Unlink(JoinPath(dir, "x.bin")).kind() == ErrorKind::kNotFound);
}

TEST_CASE("injected faults fill the disk and fail unlinks") {
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  std::string dir = TempDir();
  fs.FailWritesAfter(8);
  auto f = fs.Create(JoinPath(dir, "y.bin"));
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("12345", 5).ok());
  Status st = (*f)->Append("67890", 5);
  REQUIRE(st.kind() == ErrorKind::kResourceExhausted);
  fs.FailUnlinks(true);
  REQUIRE(fs.Unlink(JoinPath(dir, "y.bin")).kind() == ErrorKind::kIo);
  fs.SetSpace({1000, 50});
  REQUIRE(fs.Space(dir)->free_bytes == 50);
  REQUIRE(fs.Space(dir)->UsedFraction() == Approx(0.95));
}

TEST_CASE("a copy from another file appends its bytes at the end, and fills the disk alike") {
  auto& posix = PosixFilesystem::Instance();
  std::string dir = TempDir();
  std::string source_bytes;
  for (int i = 0; i < 300000; ++i) source_bytes += static_cast<char>('a' + i % 23);
  REQUIRE(WriteFileAtomically(posix, JoinPath(dir, "src.bin"), source_bytes).ok());
  const int fd = ::open(JoinPath(dir, "src.bin").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto f = posix.Create(JoinPath(dir, "out.bin"));
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("head", 4).ok());
  REQUIRE((*f)->AppendCopyOf(fd, 1000, source_bytes.data() + 1000, 200000).ok());
  REQUIRE((*f)->Append("tail", 4).ok());
  REQUIRE((*f)->Size() == 200008);
  REQUIRE((*f)->Close().ok());
  auto out = ReadFileToString(posix, JoinPath(dir, "out.bin"), 1 << 20);
  REQUIRE(out.ok());
  REQUIRE(*out == "head" + source_bytes.substr(1000, 200000) + "tail");

  FaultInjectingFilesystem faulty(posix);
  faulty.FailWritesAfter(100000);
  auto g = faulty.Create(JoinPath(dir, "full.bin"));
  REQUIRE(g.ok());
  REQUIRE((*g)->AppendCopyOf(fd, 0, source_bytes.data(), 60000).ok());
  REQUIRE((*g)->AppendCopyOf(fd, 60000, source_bytes.data() + 60000, 60000).kind() ==
          ErrorKind::kResourceExhausted);
  ::close(fd);
}

TEST_CASE("a failed atomic write leaves the old file whole and no temporary") {
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  const std::string dir = TempDir();
  const std::string path = JoinPath(dir, "state.json");
  REQUIRE(WriteFileAtomically(fs, path, "old contents").ok());
  fs.FailWritesAfter(4);
  Status st = WriteFileAtomically(fs, path, "new contents, longer than four bytes");
  REQUIRE(st.kind() == ErrorKind::kResourceExhausted);
  REQUIRE(*ReadFileToString(fs, path) == "old contents");
  REQUIRE_FALSE(fs.Exists(path + ".tmp"));
  fs.FailWritesAfter(-1);
  REQUIRE(WriteFileAtomically(fs, path, "new").ok());
  REQUIRE(*ReadFileToString(fs, path) == "new");
}

TEST_CASE("a new file written atomically is whole or absent and never replaces another") {
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  const std::string dir = TempDir();
  const std::string path = JoinPath(dir, "key");
  fs.FailWritesAfter(3);
  REQUIRE(WriteNewFileAtomically(fs, path, "secret bytes", 0600).kind() ==
          ErrorKind::kResourceExhausted);
  REQUIRE_FALSE(fs.Exists(path));
  REQUIRE(fs.List(dir)->empty());  // no temporary left
  fs.FailWritesAfter(-1);
  REQUIRE(WriteNewFileAtomically(fs, path, "secret bytes", 0600).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(WriteNewFileAtomically(fs, path, "other bytes").kind() == ErrorKind::kAlreadyExists);
  REQUIRE(*ReadFileToString(fs, path) == "secret bytes");
  REQUIRE(fs.List(dir)->size() == 1);
}

TEST_CASE("an atomic write gives the file its mode before any byte is in it") {
  auto& fs = PosixFilesystem::Instance();
  const std::string path = JoinPath(TempDir(), "cert.pem");
  REQUIRE(WriteFileAtomically(fs, path + ".tmp", "left by a crash", 0644).ok());
  REQUIRE(WriteFileAtomically(fs, path, "private", 0600).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(WriteFileAtomically(fs, path, "public", 0644).ok());
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0644);
}

TEST_CASE("whole-file reads report a failed read, a missing file and one too large") {
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  const std::string path = JoinPath(TempDir(), "f.txt");
  REQUIRE(ReadFileToString(fs, path).status().kind() == ErrorKind::kNotFound);
  REQUIRE(WriteFileAtomically(fs, path, "0123456789").ok());
  REQUIRE(ReadFileToString(fs, path, 9).status().kind() == ErrorKind::kResourceExhausted);
  fs.FailReads(true);
  Status st = ReadFileToString(fs, path).status();
  REQUIRE(st.kind() == ErrorKind::kIo);
  REQUIRE(st.message().find(path) != std::string::npos);
}

TEST_CASE("chmod makes a file private") {
  auto& fs = PosixFilesystem::Instance();
  const std::string path = JoinPath(TempDir(), "secret");
  REQUIRE(fs.Create(path).ok());
  REQUIRE(fs.Chmod(path, 0600).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(fs.Chmod(path + ".absent", 0600).kind() == ErrorKind::kNotFound);
}

TEST_CASE("path helpers join and split") {
  REQUIRE(JoinPath("a/", "/b") == "a/b");
  REQUIRE(JoinPath("a", "b") == "a/b");
  REQUIRE(DirName("a/b/c.mp4") == "a/b");
  REQUIRE(DirName("c.mp4") == ".");
}
