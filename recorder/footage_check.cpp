#include "recorder/footage_check.h"

#include <set>

#include "activity/activity_file.h"
#include "activity/day_digest.h"
#include "base/sha256.h"
#include "recorder/footage_layout.h"

namespace custodian::recorder {


Result<FootageCheckReport> CheckFootage(records::Database& db, Filesystem& fs,
                                        const std::string& data_dir, bool verify_hashes) {
  FootageCheckReport report;
  auto rows = db.ListAllSegments();
  if (!rows.ok()) return rows.status();
  std::set<std::string> indexed;
  for (const records::SegmentRow& s : *rows) {
    ++report.segments;
    indexed.insert(s.path);
    const std::string path = JoinPath(data_dir, s.path);
    const std::string what = "segment " + std::to_string(s.id) + " (" + s.path + ")";
    if (s.state == records::SegmentState::kRecording) {
      report.notes.push_back(what + " is still recording (or the recorder stopped without "
                             "finishing it; recovery finishes it on the next start)");
      continue;
    }
    if (s.state == records::SegmentState::kDeleting) {
      report.notes.push_back(what + " is being deleted; retention finishes it on its next pass");
      continue;
    }
    auto size = fs.FileSize(path);
    if (!size.ok()) {
      report.problems.push_back(what + ": file missing");
      continue;
    }
    if (static_cast<int64_t>(*size) != s.bytes) {
      report.problems.push_back(what + ": file is " + std::to_string(*size) + " bytes, records say " +
                                std::to_string(s.bytes));
      continue;
    }
    if (verify_hashes) {
      auto sha = Sha256File(path);
      if (!sha.ok() || *sha != s.sha256.value_or("")) report.problems.push_back(what + ": SHA-256 differs from the records");
    }
  }
  std::vector<FootageFile> files;
  std::vector<std::string> quarantined;
  std::vector<FootageFile> indexes;
  ListFootageFiles(fs, data_dir, &files, &quarantined, &indexes);
  report.files = static_cast<int64_t>(files.size());
  std::set<std::string> index_of_row;
  for (const FootageFile& f : files) {
    if (!indexed.count(f.rel)) report.problems.push_back(f.rel + ": file has no row in the records");
  }
  std::set<std::string> dir_of_row;
  for (const std::string& rel : indexed) {
    index_of_row.insert(activity::ActivityPathFor(rel));
    dir_of_row.insert(DirName(rel));
  }
  for (const FootageFile& f : indexes) {
    // Movement data must not outlive its footage (docs/design/recording.md): a segment's
    // index needs its segment, a day's digest some segment of its day.
    if (activity::IsDayDigestName(f.name)) {
      if (!dir_of_row.count(DirName(f.rel)))
        report.problems.push_back(f.rel + ": activity digest of a day without footage");
    } else if (!index_of_row.count(f.rel)) {
      report.problems.push_back(f.rel + ": activity index without its segment");
    }
  }
  for (const std::string& q : quarantined)
    report.notes.push_back(q + " is in quarantine (did not play when found); a person should look at it");
  return report;
}

}  // namespace custodian::recorder
