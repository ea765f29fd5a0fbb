#include "exports/recording_wait.h"

#include <algorithm>

#include "base/log.h"

namespace custodian::exports {

Result<std::vector<RecordingInProgress>> FindRecordingInProgress(
    records::Database& db, const std::vector<records::FootageRange>& ranges, UtcMicros now) {
  std::vector<RecordingInProgress> out;
  for (const records::FootageRange& r : ranges) {
    auto segments = db.ListSegments(r.camera_id, r.from, r.to);
    if (!segments.ok()) return segments.status();
    bool recording = false;
    UtcMicros recorded_to = r.from;
    for (const records::SegmentRow& s : *segments) {
      if (s.state == records::SegmentState::kRecording) recording = true;
      if (s.state == records::SegmentState::kComplete && s.end)
        recorded_to = std::max(recorded_to, std::min(*s.end, r.to));
    }
    if (!recording && recorded_to < r.to && r.to > now - kRowLag) {
      auto run = db.LastRun(r.camera_id);
      if (!run.ok()) return run.status();
      recording = run->has_value() && !(*run)->end && (*run)->start < r.to;
    }
    if (recording) out.push_back({r.camera_id, r.from, r.to, recorded_to});
  }
  return out;
}

double RecordedFraction(const std::vector<records::FootageRange>& ranges,
                        const std::vector<RecordingInProgress>& waiting) {
  int64_t total = 0, missing = 0;
  for (const records::FootageRange& r : ranges) total += std::max<int64_t>(0, r.to - r.from);
  for (const RecordingInProgress& w : waiting) missing += std::max<int64_t>(0, w.to - w.recorded_to);
  if (total <= 0) return 1.0;
  return std::clamp(1.0 - static_cast<double>(missing) / static_cast<double>(total), 0.0, 1.0);
}

std::string DescribeWait(const std::vector<RecordingInProgress>& waiting, const TimeZone& zone) {
  std::string out;
  for (const RecordingInProgress& w : waiting) {
    if (!out.empty()) out += "; ";
    out += "camera " + w.camera_id + " is still recording footage up to " + zone.FormatLocal(w.to) +
           " (recorded up to " + zone.FormatLocal(w.recorded_to) + ")";
  }
  return out;
}

Status AwaitRecorded(records::Database& db, const Clock& clock, const TimeZone& zone,
                     const std::vector<records::FootageRange>& ranges,
                     const RecordingWaitOptions& options, const WaitProgressFn& progress,
                     const std::function<bool()>& cancelled) {
  const MonoMicros started = clock.Monotonic();
  bool logged = false;
  // Polls are counted too, for a clock whose sleeps do not pass time (tests' clocks).
  const int64_t max_polls = options.max_wait_us / std::max<int64_t>(1, options.poll_us);
  for (int64_t polls = 0;; ++polls) {
    auto waiting = FindRecordingInProgress(db, ranges, clock.Now());
    if (!waiting.ok()) return waiting.status();
    if (waiting->empty()) return Status::Ok();
    const std::string what = DescribeWait(*waiting, zone);
    if (!logged) {
      LogInfo("exports") << "export waits: " << what << "; it is built once that is recorded";
      logged = true;
    }
    if (progress) progress(RecordedFraction(ranges, *waiting), what);
    if (cancelled && cancelled()) return FailedPrecondition("export cancelled");
    if (clock.Monotonic() - started > options.max_wait_us || polls > max_polls) {
      return Unavailable("footage in the export is still being recorded after waiting " +
                         std::to_string(options.max_wait_us / kMicrosPerSecond) + " s (" + what +
                         "); nothing was exported or signed; export again once it is recorded");
    }
    clock.SleepFor(options.poll_us);
  }
}

}  // namespace custodian::exports
