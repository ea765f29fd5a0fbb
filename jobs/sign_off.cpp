#include "jobs/sign_off.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/log.h"
#include "base/sha256.h"
#include "exports/manifest.h"
#include "exports/signing.h"
#include "jobs/redactions.h"
#include "requests/workflow.h"

namespace custodian::jobs {

using nlohmann::json;
using RedactionRow = records::Database::RedactionRow;

namespace {

// The record's flagged ranges against the reviewer's list: every range confirmed, nothing
// confirmed that is not a range (a page showing an older list must not pass).
Result<json> CheckedRanges(const json& record, const std::vector<std::string>& checked,
                           int64_t redaction_id) {
  const std::set<std::string> confirmed(checked.begin(), checked.end());
  std::set<std::string> known;
  json ranges = json::array();
  std::vector<std::string> missing;
  const json files = record.value("files", json::array());
  for (size_t i = 0; i < files.size(); ++i) {
    for (const json& r : files[i].value("flagged", json::array())) {
      const std::string id = FlaggedRangeId(i, r);
      known.insert(id);
      if (!confirmed.count(id)) missing.push_back(id);
      ranges.push_back({{"id", id},
                        {"file", files[i].value("source", "")},
                        {"from_frame", r.value("from_frame", int64_t{0})},
                        {"to_frame", r.value("to_frame", int64_t{0})},
                        {"reason", r.value("reason", "")}});
    }
  }
  for (const std::string& id : confirmed) {
    if (!known.count(id)) {
      return InvalidArgument("checked lists " + id + ", which is not a flagged range of " +
                             RedactionText(redaction_id) +
                             "; reload the redaction and check again");
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) list += ", ...";
    return InvalidArgument("a sign-off must confirm that every flagged range was checked: " +
                           std::to_string(missing.size()) + " of " + std::to_string(known.size()) +
                           " not confirmed (" + list + ")");
  }
  return ranges;
}

// What step 1 found: the row, its record and export, the reviewer, and what they confirmed.
struct Checked {
  records::UserRow reviewer_account;
  RedactionRow row;
  json record;
  json ranges;
  json reviewer;
  records::ExportRow export_row;
};

Result<records::UserRow> Reviewer(records::Database& db, int64_t user_id) {
  auto u = db.GetUserById(user_id);
  if (!u.ok()) return u.status();
  if (!*u) return NotFound("no user " + std::to_string(user_id));
  if ((*u)->disabled) return PermissionDenied("user " + (*u)->name + " is disabled");
  if (!requests::CanDecide((*u)->role)) {
    return PermissionDenied("only a manager or the DPO signs a redaction off; " + (*u)->name +
                            " is " + records::Name((*u)->role));
  }
  return **u;
}

// The reviewer signs off footage they may see: a manager needs the camera permission for
// every camera of the export, as the API's redaction routes ask; the DPO oversees them all.
Status MayReviewCameras(records::Database& db, const records::UserRow& reviewer,
                        const records::ExportRow& e) {
  if (reviewer.role == records::Role::kDpo) return Status::Ok();
  auto cameras = db.ListCameraPermissions(reviewer.id);
  if (!cameras.ok()) return cameras.status();
  for (const records::FootageRange& r : e.ranges) {
    if (std::find(cameras->begin(), cameras->end(), r.camera_id) == cameras->end()) {
      return PermissionDenied("export " + std::to_string(e.id) + " includes camera " + r.camera_id +
                              ", which " + reviewer.name + " has no permission for");
    }
  }
  return Status::Ok();
}

Result<Checked> Check(records::Database& db, int64_t redaction_id, const RedactionSignOff& s) {
  Checked c;
  auto reviewer = Reviewer(db, s.reviewer_id);
  if (!reviewer.ok()) return reviewer.status();
  c.reviewer_account = std::move(reviewer).value();
  auto got = db.GetRedaction(redaction_id);
  if (!got.ok()) return got.status();
  if (!*got) return NotFound("no " + RedactionText(redaction_id));
  c.row = **got;
  if (c.row.signed_off) {
    return FailedPrecondition(RedactionText(c.row.id) + " is signed off already");
  }
  c.record = RedactionRecord(c.row);
  if (c.record.value("state", "") != "done" || !c.row.export_id) {
    return FailedPrecondition(RedactionText(c.row.id) + " is " +
                              c.record.value("state", "unknown") +
                              "; only a finished redaction can be signed off");
  }
  if (s.note.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument(
        "a sign-off needs a note of what the reviewer checked (the contact "
        "sheet, each flagged range)");
  }
  auto ranges = CheckedRanges(c.record, s.checked, c.row.id);
  if (!ranges.ok()) return ranges.status();
  c.ranges = std::move(ranges).value();
  c.reviewer = {{"user_id", c.reviewer_account.id},
                {"name", c.reviewer_account.name},
                {"role", records::Name(c.reviewer_account.role)}};
  auto e = db.GetExport(*c.row.export_id);
  if (!e.ok()) return e.status();
  if (!*e) return NotFound("no export " + std::to_string(*c.row.export_id));
  c.export_row = **e;
  CUSTODIAN_RETURN_IF_ERROR(MayReviewCameras(db, c.reviewer_account, c.export_row));
  return c;
}

// An exclusive flock on the package's directory, held for the object's life. flock locks
// belong to the open file description, so two threads of one process exclude each other
// as two processes do.
class PackageLock {
 public:
  static Result<PackageLock> Take(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open the redacted package " + dir, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("lock the redacted package " + dir, err);
    }
    return PackageLock(fd);
  }
  PackageLock(PackageLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  PackageLock& operator=(PackageLock&&) = delete;
  ~PackageLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit PackageLock(int fd) : fd_(fd) {}
  int fd_;
};

const char* FileKind(const std::string& member) {
  if (member == "output") return "redacted_video";
  if (member == "record_file") return "redaction_record";
  return "contact_sheet";
}

// Every file of the package that the record names (each redacted video with its record and
// contact sheet, then the run's package_files), with its hash and size.
Result<json> DescribeFiles(Filesystem& fs, const std::string& package, const json& record) {
  json files = json::array();
  for (const json& f : record.value("files", json::array())) {
    for (const char* member : {"output", "record_file", "contact_sheet"}) {
      if (!f.contains(member) || !f[member].is_string()) continue;
      const std::string rel = f[member].get<std::string>();
      auto digest = DigestFile(fs, JoinPath(package, rel));
      if (!digest.ok()) return digest.status();
      json entry = {{"path", rel},
                    {"kind", FileKind(member)},
                    {"bytes", static_cast<int64_t>(digest->bytes)},
                    {"sha256", digest->sha256}};
      if (std::string(member) == "output") {
        entry["source"] = f.value("source", "");
        entry["source_sha256"] = f.value("input_sha256", "");
      }
      if (std::string(member) == "output" && f.contains("timed_text")) {
        entry["timed_text"] = f["timed_text"];
      }
      files.push_back(entry);
    }
  }
  // The player, README and SHA256SUMS the redaction run wrote beside the videos.
  for (const json& f : record.value("package_files", json::array())) {
    const std::string rel = f.value("path", "");
    auto digest = DigestFile(fs, JoinPath(package, rel));
    if (!digest.ok()) return digest.status();
    files.push_back({{"path", rel},
                     {"kind", f.value("kind", "")},
                     {"bytes", static_cast<int64_t>(digest->bytes)},
                     {"sha256", digest->sha256}});
  }
  return files;
}

// Step 3: the signed manifest, its signature and the public key written into the package;
// returns the manifest's text.
Result<std::string> WriteSignedManifest(Filesystem& fs, const SignOffPaths& paths,
                                        const std::string& package, const Checked& c,
                                        const RedactionSignOff& s) {
  auto key = exports::SigningKey::LoadOrCreate(paths.keys_dir, fs);
  if (!key.ok()) return key.status();
  auto files = DescribeFiles(fs, package, c.record);
  if (!files.ok()) return files.status();
  const int64_t export_id = c.export_row.id;
  const json manifest = {{"format", "custodian-redaction-manifest-1"},
                         {"export_id", export_id},
                         {"request_id", c.export_row.request_id},
                         {"redaction_id", c.row.id},
                         {"source_manifest_sha256", c.row.input_sha256},
                         {"key_id", key->public_key().KeyIdHex()},
                         {"request", c.record.value("request", json::object())},
                         {"reviewer", c.reviewer},
                         {"signed_off", FormatUtc(s.now)},
                         {"note", s.note},
                         {"flagged_ranges_checked", c.ranges},
                         {"files", *files}};
  const std::string text = manifest.dump(2) + "\n";
  const std::string signature = key->Sign(text, "custodian redaction " + std::to_string(c.row.id) +
                                                    " of export " + std::to_string(export_id));
  CUSTODIAN_RETURN_IF_ERROR(
      WriteFileAtomically(fs, JoinPath(package, kRedactionManifestName), text));
  CUSTODIAN_RETURN_IF_ERROR(WriteFileAtomically(
      fs, JoinPath(package, std::string(kRedactionManifestName) + ".minisig"), signature));
  CUSTODIAN_RETURN_IF_ERROR(WriteFileAtomically(fs, JoinPath(package, exports::kPublicKeyName),
                                                key->public_key().FileText()));
  CUSTODIAN_RETURN_IF_ERROR(fs.SyncDir(package));
  // A tar made for an earlier download would lack the manifest.
  const std::string tar = package + ".tar";
  if (fs.Exists(tar)) CUSTODIAN_RETURN_IF_ERROR(fs.Unlink(tar));
  return text;
}

// Step 4: one short transaction, no file I/O.
Status RecordSignOff(records::Database& db, const Checked& c, const RedactionSignOff& s,
                     const std::string& manifest_text) {
  json record = c.record;
  record["sign_off"] = {{"note", s.note},
                        {"reviewer", c.reviewer},
                        {"flagged_ranges_checked", c.ranges},
                        {"manifest_sha256", Sha256Hex(manifest_text)}};
  const std::string detail =
      RedactionText(c.row.id) + " of export " + std::to_string(c.export_row.id) + " signed off";
  return db.WithTransaction([&]() -> Status {
    CUSTODIAN_RETURN_IF_ERROR(
        db.UpdateRedactionRecord(c.row.id, c.row.output_sha256, record.dump()));
    CUSTODIAN_RETURN_IF_ERROR(db.SignOffRedaction(c.row.id, s.reviewer_id));
    CUSTODIAN_RETURN_IF_ERROR(db.SetExportRedacted(c.export_row.id, true));
    records::AccessEntry a;
    a.user_id = c.reviewer_account.id;
    a.user_name = c.reviewer_account.name;
    a.action = kSignOffAction;
    a.client = s.client;
    a.result = records::AccessResult::kOk;
    a.detail = detail;
    return db.AppendAccess(a).status();
  });
}

}  // namespace

Status SignOffRedaction(records::Database& db, Filesystem& fs, const SignOffPaths& paths,
                        int64_t redaction_id, const RedactionSignOff& sign_off) {
  auto checked = Check(db, redaction_id, sign_off);
  if (!checked.ok()) return checked.status();
  const std::string package =
      RedactedPackageDir(paths.data_dir, checked->export_row.id, checked->row.id);
  auto lock = PackageLock::Take(package);
  if (!lock.ok()) return lock.status();
  // Another sign-off may have finished while this one waited for the lock.
  checked = Check(db, redaction_id, sign_off);
  if (!checked.ok()) return checked.status();
  auto text = WriteSignedManifest(fs, paths, package, *checked, sign_off);
  if (!text.ok()) return text.status();
  CUSTODIAN_RETURN_IF_ERROR(RecordSignOff(db, *checked, sign_off, *text));
  LogInfo("redaction") << RedactionText(redaction_id) << " of export " << checked->export_row.id
                       << " signed off by user " << sign_off.reviewer_id;
  return Status::Ok();
}

}  // namespace custodian::jobs
