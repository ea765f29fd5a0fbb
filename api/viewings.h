// ViewingLog: the access log records viewing sessions, not HTTP requests.
//
// A viewing is one person looking at one kind of footage (live, recorded, an export's
// package, a redaction's contact sheet) of one camera or object, through one sign-in
// session, for one stated purpose, from one address. A player makes hundreds of requests
// for it (a live playlist every second and every fragment; a byte range per seek), and
// each used to be an entry of its own; a DPO could not read that.
//
// Contract:
// - Enter() is called by a footage handler when it is about to send footage, after the
//   permission and purpose checks. When an open viewing with the same key reaches what
//   the request fetches, the request joins it and no entry is written. Otherwise a start
//   entry (who, camera, purpose, client, the time range the viewing can reach) is
//   appended and Enter() returns only once it is durable, so nothing is sent before its
//   entry exists (api.md, invariant 2); if it cannot be written, Enter() fails and the
//   handler sends nothing. Either way the start entry's id comes back, for the response's
//   X-Access-Entry header.
// - A viewing ends when no request has joined it for idle_timeout_us (EndIdle, run by the
//   Api's sweeper and by Enter), when its sign-in session ends (EndSession: sign-out,
//   password change), or when the server stops (EndAll). Its end entry says what was
//   fetched (time range, requests, bytes), how long from the first to the last request,
//   and why it ended. When an End* call returns, the end entries of the viewings it ended
//   are written (or have failed and been logged: the start entry then stays open).
// - The start entry and the viewing's row in the records' open_viewings commit together,
//   and so do the end entry and the row's removal. A viewing left open by a crash is
//   ended by the next start of the server (EndLeftOpen) with "ended: unknown (server
//   stopped)" and no fetched range.
// - Thread-safe. mu_ guards the table of viewings and is never held while writing to the
//   access log; end_mu_ serialises the End* calls, so that one returning means the ends it
//   found are on record even if another thread found them first.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/access_writer.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "records/access_log.h"

namespace custodian::api {

enum class ViewingKind {
  kLive,       // live playlist, live fragments, live picture: of the camera, from the reach on
  kRecorded,   // playlist, segment files, thumbnails: within the time range reached
  kPackage,    // an export's package or a redaction's contact sheet: that object
};

struct ViewingKey {
  std::string session;  // SHA-256 of the sign-in session's token
  ViewingKind kind = ViewingKind::kRecorded;
  std::string object;   // "export 3", "redaction 2"; empty for camera footage
  std::string camera;
  std::string purpose_category;
  std::string purpose_text;
  std::string client;
  bool operator==(const ViewingKey&) const = default;
};

// One footage response about to be sent.
struct ViewingRequest {
  ViewingKey key;
  // What this request could reach (from/to; to unset for live): it joins an open viewing
  // that reaches all of it. For a start entry, the same reach, the user, the action of the
  // route that starts the viewing, and a detail saying what the reach is.
  int64_t user_id = 0;
  std::string user_name;
  std::string action;
  std::optional<UtcMicros> reach_from;
  std::optional<UtcMicros> reach_to;
  std::string start_detail;
  // What this response reveals.
  std::optional<UtcMicros> fetched_from;
  std::optional<UtcMicros> fetched_to;
  uint64_t bytes = 0;
};

class ViewingLog {
 public:
  ViewingLog(AccessLogWriter& writer, const Clock& clock, int64_t idle_timeout_us);
  ViewingLog(const ViewingLog&) = delete;
  ViewingLog& operator=(const ViewingLog&) = delete;

  // The start entry's id of the viewing this response belongs to, started if need be.
  Result<int64_t> Enter(const ViewingRequest& request);

  // Ends the viewings idle for idle_timeout_us or longer. Returns how many ended.
  int EndIdle();
  // Ends the viewings of a sign-in session (its token hash), or of every session of a user.
  int EndSession(const std::string& session, const std::string& why);
  int EndUser(int64_t user_id, const std::string& why);
  // Ends every open viewing (shutdown).
  int EndAll(const std::string& why);
  // Ends the viewings a previous run left open (a crash). Call before serving.
  Status EndLeftOpen(records::Database& db);

  int64_t idle_timeout_us() const { return idle_timeout_us_; }
  size_t open_count() const;

 private:
  struct Viewing;
  using ViewingPtr = std::shared_ptr<Viewing>;

  bool Reaches(const Viewing& v, const ViewingRequest& r) const;
  // Removes from the table the viewings `pick` selects, under mu_.
  template <typename Pick>
  std::vector<ViewingPtr> Take(Pick pick) EXCLUDES(mu_);
  // Writes the end entries.
  int WriteEnds(const std::vector<ViewingPtr>& ended, const std::string& why) REQUIRES(end_mu_)
      EXCLUDES(mu_);
  int End(std::vector<ViewingPtr> ended, const std::string& why);

  AccessLogWriter& writer_;
  const Clock& clock_;
  const int64_t idle_timeout_us_;
  Mutex end_mu_;  // held by End*: see the contract
  mutable Mutex mu_;
  std::condition_variable started_;  // a viewing's start entry was written or failed
  std::list<ViewingPtr> viewings_ GUARDED_BY(mu_);
};

}  // namespace custodian::api
