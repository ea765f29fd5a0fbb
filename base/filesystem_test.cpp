#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "base/filesystem.h"

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

TEST_CASE("path helpers join and split") {
  REQUIRE(JoinPath("a/", "/b") == "a/b");
  REQUIRE(JoinPath("a", "b") == "a/b");
  REQUIRE(DirName("a/b/c.mp4") == "a/b");
  REQUIRE(DirName("c.mp4") == ".");
}
