#include "exports/signing.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>
#include <vector>

#include "exports/access_checkpoint.h"
#include "exports/testing.h"

using namespace custodian;
using namespace custodian::exports;
using namespace custodian::exports::testing;

namespace {

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("the signing key is made once, private, and reloaded the same") {
  TempDir dir;
  const std::string keys = dir.File("keys");
  auto made = SigningKey::LoadOrCreate(keys);
  REQUIRE(made.ok());
  struct stat st {};
  REQUIRE(::stat(SecretKeyPath(keys).c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  auto again = SigningKey::LoadOrCreate(keys);
  REQUIRE(again.ok());
  REQUIRE(again->public_key().KeyIdHex() == made->public_key().KeyIdHex());
  REQUIRE(again->public_key().pk == made->public_key().pk);
  auto pub = ParsePublicKey(ReadFile(PublicKeyPath(keys)));
  REQUIRE(pub.ok());
  REQUIRE(pub->Base64() == made->public_key().Base64());
  REQUIRE(ParsePublicKey(made->public_key().Base64())->KeyIdHex() == pub->KeyIdHex());
  REQUIRE(SigningKey::Load(dir.File("none")).status().kind() == ErrorKind::kNotFound);
  REQUIRE_FALSE(ParsePublicKey("untrusted comment: x\nnot base64!\n").ok());
}

TEST_CASE("a signing key that cannot be read is a clear error and is never replaced") {
  TempDir dir;
  const std::string keys = dir.File("keys");
  auto made = SigningKey::LoadOrCreate(keys);
  REQUIRE(made.ok());
  const std::string before = ReadFile(SecretKeyPath(keys));
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailReads(true);
  auto loaded = SigningKey::Load(keys, fs);
  REQUIRE(loaded.status().kind() == ErrorKind::kIo);
  REQUIRE(loaded.status().message().find("cannot read " + SecretKeyPath(keys)) !=
          std::string::npos);
  // Not taken for a missing key: no new pair is made over the unreadable one.
  REQUIRE(SigningKey::LoadOrCreate(keys, fs).status().kind() == ErrorKind::kIo);
  REQUIRE(ReadFile(SecretKeyPath(keys)) == before);
  fs.FailReads(false);
  REQUIRE(SigningKey::Load(keys, fs)->public_key().pk == made->public_key().pk);
}

TEST_CASE("a signing key whose write fails leaves no key file and is made whole next time") {
  TempDir dir;
  const std::string keys = dir.File("keys");
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailWritesAfter(10);  // inside the secret key's text
  auto made = SigningKey::LoadOrCreate(keys, fs);
  REQUIRE(made.status().kind() == ErrorKind::kResourceExhausted);
  REQUIRE(made.status().message().find("signing: ") == 0);
  // Neither a partial key taken for a whole one, nor a temporary left beside it.
  REQUIRE_FALSE(fs.Exists(SecretKeyPath(keys)));
  REQUIRE(fs.List(keys)->empty());
  REQUIRE(SigningKey::Load(keys, fs).status().kind() == ErrorKind::kNotFound);

  fs.FailWritesAfter(-1);
  auto remade = SigningKey::LoadOrCreate(keys, fs);
  REQUIRE(remade.ok());
  struct stat st {};
  REQUIRE(::stat(SecretKeyPath(keys).c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(ParsePublicKey(ReadFile(PublicKeyPath(keys)))->pk == remade->public_key().pk);
  REQUIRE(fs.List(keys)->size() == 2);
}

TEST_CASE("threads racing to make the signing key all get the one that is kept") {
  for (int round = 0; round < 10; ++round) {
    TempDir dir;
    const std::string keys = dir.File("keys");
    std::vector<std::string> got(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
      threads.emplace_back([&, i] {
        auto key = SigningKey::LoadOrCreate(keys);
        got[i] = key.ok() ? key->public_key().Base64() : key.status().ToString();
      });
    }
    for (auto& t : threads) t.join();
    auto kept = SigningKey::Load(keys);
    REQUIRE(kept.ok());
    for (const std::string& g : got) REQUIRE(g == kept->public_key().Base64());
    REQUIRE(ParsePublicKey(ReadFile(PublicKeyPath(keys)))->pk == kept->public_key().pk);
    REQUIRE(PosixFilesystem::Instance().List(keys)->size() == 2);  // no temporary left
  }
}

TEST_CASE("a checkpoint whose write fails leaves neither it nor its signature") {
  TempDir dir;
  const std::string path = dir.File("access-log.txt");
  AccessCheckpoint cp;
  cp.text = "custodian access-log checkpoint 1\nentry: 6\n";
  cp.minisig = "untrusted comment: signature\nAAAA\n";
  FaultInjectingFilesystem fs(PosixFilesystem::Instance());
  fs.FailWritesAfter(static_cast<int64_t>(cp.minisig.size()) + 5);  // inside the checkpoint
  REQUIRE(WriteAccessCheckpointFiles(fs, path, cp).kind() == ErrorKind::kResourceExhausted);
  REQUIRE(fs.List(dir.path())->empty());  // no signature without its file, no temporary

  fs.FailWritesAfter(-1);
  REQUIRE(WriteAccessCheckpointFiles(fs, path, cp).ok());
  REQUIRE(ReadFile(path) == cp.text);
  REQUIRE(ReadFile(path + ".minisig") == cp.minisig);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0644);
  // Never overwritten.
  AccessCheckpoint later = cp;
  later.text += "later\n";
  REQUIRE(WriteAccessCheckpointFiles(fs, path, later).kind() == ErrorKind::kAlreadyExists);
  REQUIRE(ReadFile(path) == cp.text);
  REQUIRE(fs.List(dir.path())->size() == 2);
}

TEST_CASE("a signature verifies, and fails for altered data, comment or key") {
  TempDir dir;
  auto key = SigningKey::LoadOrCreate(dir.File("keys"));
  REQUIRE(key.ok());
  const std::string data = "{\"export_id\": 1}\n";
  const std::string sig = key->Sign(data, "timestamp:1\tfile:manifest.json\thashed");
  auto ok = VerifyMinisign(key->public_key(), data, sig);
  REQUIRE(ok.ok);
  REQUIRE(ok.trusted_comment == "timestamp:1\tfile:manifest.json\thashed");
  REQUIRE_FALSE(VerifyMinisign(key->public_key(), data + " ", sig).ok);
  std::string forged = sig;
  forged.replace(forged.find("timestamp:1"), 11, "timestamp:2");
  auto comment = VerifyMinisign(key->public_key(), data, forged);
  REQUIRE_FALSE(comment.ok);
  REQUIRE(comment.reason.find("trusted comment") != std::string::npos);
  TempDir other_dir;
  auto other = SigningKey::LoadOrCreate(other_dir.File("keys"));
  auto wrong = VerifyMinisign(other->public_key(), data, sig);
  REQUIRE_FALSE(wrong.ok);
  REQUIRE(wrong.reason.find("signed with key") != std::string::npos);
  REQUIRE_FALSE(VerifyMinisign(key->public_key(), data, "garbage").ok);
}

TEST_CASE("Debian's minisign verifies our signatures, and we verify minisign's") {
  if (std::string(CUSTODIAN_MINISIGN_CLI).empty() ||
      std::string(CUSTODIAN_MINISIGN_CLI).find("NOTFOUND") != std::string::npos) {
    WARN("minisign is not installed; skipped");
    return;
  }
  TempDir dir;
  auto key = SigningKey::LoadOrCreate(dir.File("keys"));
  REQUIRE(key.ok());
  const std::string file = dir.File("manifest.json");
  const std::string data = "{\"hello\": \"world\"}\n";
  WriteFile(file, data);
  WriteFile(file + ".minisig", key->Sign(data, "timestamp:1700000000\tfile:manifest.json\thashed"));
  const std::string minisign = CUSTODIAN_MINISIGN_CLI;
  int status = -1;
  std::string out =
      RunOutput(minisign + " -Vm '" + file + "' -P " + key->public_key().Base64(), &status);
  INFO(out);
  REQUIRE(status == 0);
  REQUIRE(out.find("Signature and comment signature verified") != std::string::npos);
  WriteFile(file, data + "x");
  RunOutput(minisign + " -Vm '" + file + "' -P " + key->public_key().Base64(), &status);
  REQUIRE(status != 0);

  // The other way round: a key and signature made by minisign itself (no password).
  const std::string pub = dir.File("m.pub"), sec = dir.File("m.key");
  REQUIRE(Run(minisign + " -G -W -p '" + pub + "' -s '" + sec + "' >/dev/null 2>&1") == 0);
  WriteFile(file, data);
  REQUIRE(Run(minisign + " -S -s '" + sec + "' -m '" + file + "' >/dev/null 2>&1") == 0);
  auto their_key = ParsePublicKey(ReadFile(pub));
  REQUIRE(their_key.ok());
  auto check = VerifyMinisign(*their_key, data, ReadFile(file + ".minisig"));
  INFO(check.reason);
  REQUIRE(check.ok);
}
