#include "app/backup_archive.h"

#include <sodium.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/testing/temp_dir.h"

namespace custodian {
namespace {

using testing::TempDir;

constexpr KdfCost kCheapest{crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

std::string Plaintext() {
  std::string text;
  for (int i = 0; i < 3 * static_cast<int>(kBackupChunkBytes) + 100; ++i) {
    text += static_cast<char>('a' + i % 26);
  }
  return text;
}

Status WriteBackupFile(Filesystem& fs, const std::string& path, const std::string& text) {
  auto w = BackupWriter::Create(path, "passphrase", kCheapest, fs);
  if (!w.ok()) return w.status();
  CUSTODIAN_RETURN_IF_ERROR((*w)->Write(text.data(), text.size()));
  return (*w)->Finish();
}

TEST_CASE("a backup whose disk fills leaves neither a whole-looking file nor a partial one") {
  TempDir dir;
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  const std::string path = dir.File("site.custbak");
  const std::string text = Plaintext();
  fs.FailWritesAfter(2 * static_cast<int64_t>(kBackupChunkBytes));
  Status st = WriteBackupFile(fs, path, text);
  REQUIRE(st.kind() == ErrorKind::kResourceExhausted);
  REQUIRE(fs.List(dir.path())->empty());

  fs.FailWritesAfter(-1);
  REQUIRE(WriteBackupFile(fs, path, text).ok());
  struct stat sb {};
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
  REQUIRE(fs.List(dir.path())->size() == 1);  // the partial name is gone
  auto r = BackupReader::Open(path, "passphrase", fs);
  REQUIRE(r.ok());
  std::string back(text.size(), '\0');
  REQUIRE((*r)->Read(back.data(), back.size()).ok());
  REQUIRE((*r)->ExpectEnd().ok());
  REQUIRE(back == text);
}

TEST_CASE("a backup never replaces a file that appears while it is written") {
  TempDir dir;
  auto& fs = PosixFilesystem::Instance();
  const std::string path = dir.File("site.custbak");
  auto w = BackupWriter::Create(path, "passphrase", kCheapest, fs);
  REQUIRE(w.ok());
  REQUIRE(WriteFileAtomically(fs, path, "someone else's file").ok());
  REQUIRE((*w)->Write("x", 1).ok());
  REQUIRE((*w)->Finish().kind() == ErrorKind::kAlreadyExists);
  REQUIRE(*ReadFileToString(fs, path) == "someone else's file");
  (*w).reset();  // the writer's destructor removes its partial file
  REQUIRE(fs.List(dir.path())->size() == 1);
  REQUIRE(BackupWriter::Create(path, "passphrase", kCheapest, fs).status().kind() ==
          ErrorKind::kAlreadyExists);
}

TEST_CASE("a backup that cannot be read is a clear error naming it") {
  TempDir dir;
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  const std::string path = dir.File("site.custbak");
  REQUIRE(WriteBackupFile(fs, path, Plaintext()).ok());
  fs.FailReads(true);
  auto r = BackupReader::Open(path, "passphrase", fs);
  REQUIRE(r.status().kind() == ErrorKind::kIo);
  CHECK(r.status().message().find("cannot open the backup") == 0);
  CHECK(r.status().message().find(path) != std::string::npos);
}

}  // namespace
}  // namespace custodian
