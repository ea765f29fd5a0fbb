// Database: the confidentiality records (records.db), with typed access for every module.
//
// Contract:
// - One Database per process. It owns one SQLite connection (WAL, foreign keys on,
//   synchronous=FULL, busy timeout 5 s) and is safe to share between threads: every call
//   takes an internal mutex, so calls from different threads are serialised. Other
//   processes open their own Database on the same file; SQLite's locking serialises
//   their writes and the busy timeout absorbs short waits.
// - Open() creates the file if needed and applies the ordered migrations in
//   records/migrations.h. A file whose schema is newer than this build is refused
//   (kFailedPrecondition, "records.db is schema version N but this custodian knows up to
//   M; upgrade custodian"); so is an SQLite file that is not a records database.
// - Nothing throws. Errors are Status/Result with these kinds: kUnavailable (locked by
//   another process past the timeout; retry), kAlreadyExists (a unique key is taken),
//   kFailedPrecondition (a CHECK, foreign key or append-only rule refused the change, or
//   the row is in the wrong state), kNotFound (no such row), kDataLoss (the file is
//   corrupt, or a stored value cannot be read), kResourceExhausted (disk full), kIo.
// - Every write is its own short transaction. WithTransaction(body) groups several calls
//   into one; body runs with the mutex held and may call any method (nesting uses
//   savepoints). Keep bodies short and free of file I/O: they block every other thread.
//   Inside records/ a body that uses the connection directly is marked REQUIRES(mu_), which
//   the clang build checks (-Wthread-safety), as it checks every use of the connection.
// - Times are UtcMicros. Fields that rows.h calls "stamped" are set from the Clock.
//
// Methods, by area (each documented below):
//   Open, SchemaVersion, WithTransaction;
//   cameras: UpsertCamera, ListCameras, SetCameraStatus, ListCameraStatus;
//   segments: BeginSegment, FinishSegment, GetSegment, ListSegments, ListSegmentsInState,
//     LatestClockOffset, FootageBytesByCamera, ListAllSegments, ForEachSegment,
//     ForEachCompleteSegment, MarkSegmentDeleting, RemoveSegment, LeaseSegment,
//     ReleaseSegmentLease;
//   runs and gaps: BeginRun, EndRun, LastRun, InsertGap, ListGaps;
//   access log: AppendAccess, VerifyAccessLog, AccessLogHead, QueryAccess,
//     AppendViewingStart, AppendViewingEnd, ListOpenViewings;
//   users: CreateUser, GetUserById, GetUserByName, ListUsers, SetUserDisabled, SetUserRole,
//     RequestRoleGrant, SupersedeRoleGrants, GetRoleGrant, ListRoleGrants, DecideRoleGrant,
//     SetPasswordHash, RecordFailedLogin, ResetFailedLogins, GrantCamera, RevokeCamera,
//     ListCameraPermissions;
//   sessions: CreateSession, GetSession, TouchSession, DeleteSession, DeleteUserSessions,
//     DeleteExpiredSessions;
//   holds: CreateHold, GetHold, ListActiveHolds, HoldsDueForReview, SetHoldReview,
//     ReleaseHold, IsSegmentHeld, ActiveHoldRanges;
//   deletions: RecordDeletion, ListDeletions;  alarms: RaiseAlarm, ClearAlarm,
//     ListActiveAlarms;  settings: GetSetting, SetSetting, SchedulePolicyChange,
//     ListOpenPolicyChanges, MarkPolicyChangeApplied, CancelPolicyChange;
//   retention batches (segment_batches.cpp): MarkSegmentsDeleting, ListLeasedSegments;
//   export expiry (exports.cpp): ListExportsForExpiry, MarkExportExpired,
//     MarkExportFilesDeleted;
//   footage requests (requests.cpp, rows in request_rows.h): InsertFootageRequest,
//     GetFootageRequest, ListFootageRequests, TransitionRequest, RecordRequestDecision,
//     ExtendRequestDeadline, RecordSubjectNotification, RecordDsarClockChange,
//     CloseFootageRequest, AddRequestVerification, ListRequestVerifications,
//     ListRequestEvents, ListRequestHoldsDue;
//   exports and disclosures (export_records.cpp): CreateExport, GetExport,
//     ListExportsForRequest, SetExportJob, RestartExport, MarkExportReady,
//     MarkExportFailed, SetExportRedacted, JustifyUnredactedExport, RecordDisclosure,
//     ListDisclosures, ListDisclosuresForExport;
//   jobs (jobs.cpp): EnqueueJob, GetJob, ListJobs, ClaimNextJob, SetJobProgress,
//     RequestJobCancel, FinishJob, RequeueRunningJobs;
//   statistics (activity.cpp): CountActivity.
// The rules of the request workflow (who may decide, which transitions are allowed) are
// in requests/; these methods store, and refuse only what the schema refuses or a state
// that moved underneath the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "records/access_log.h"
#include "records/auth_rows.h"
#include "records/request_rows.h"
#include "records/rows.h"

namespace custodian::records {

class Statement;    // records/sqlite.h, internal
struct Connection;  // records/sqlite.h, internal

struct OpenOptions {
  int busy_timeout_ms = 5000;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const Clock& clock,
                                                const OpenOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  int SchemaVersion() const { return schema_version_; }
  const std::string& path() const { return path_; }
  // The clock rows are stamped with, for rules that compare stored times with now (an
  // export's expiry, requests::CheckExportMayLeave).
  UtcMicros Now() const { return clock_.Now(); }

  // Runs body in one transaction: committed if it returns ok, rolled back otherwise.
  Status WithTransaction(const std::function<Status()>& body);

  // --- Cameras -------------------------------------------------------------------------
  // Inserts the camera or renames it and sets its make, model and firmware; `created` is
  // kept from the first insert.
  Status UpsertCamera(const CameraRow& camera);
  Result<std::vector<CameraRow>> ListCameras();
  Status SetCameraStatus(const CameraStatusRow& status);
  Result<std::vector<CameraStatusRow>> ListCameraStatus();

  // --- Segments (lifecycle in docs/design/schema.md) -----------------------------------
  // Inserts a row in state recording; end, bytes, sha256 and state are ignored.
  Result<int64_t> BeginSegment(const SegmentRow& segment);
  // recording -> complete. kFailedPrecondition if the segment is not recording.
  Status FinishSegment(int64_t id, const SegmentFinish& finish);
  Result<std::optional<SegmentRow>> GetSegment(int64_t id);
  // Segments of camera_id overlapping [from, to), ordered by start.
  Result<std::vector<SegmentRow>> ListSegments(const std::string& camera_id, UtcMicros from,
                                               UtcMicros to);
  Result<std::vector<SegmentRow>> ListSegmentsInState(SegmentState state);
  // The newest segment of camera_id starting at or after `since` that carries a camera
  // clock offset (the camera sent RTCP sender reports); nullopt when there is none.
  Result<std::optional<SegmentRow>> LatestClockOffset(const std::string& camera_id,
                                                      UtcMicros since);
  // Bytes of complete footage per camera id (cameras without footage are absent).
  Result<std::map<std::string, int64_t>> FootageBytesByCamera();
  // Every segment, ordered by id; for `check` on small sites. Prefer ForEachSegment.
  Result<std::vector<SegmentRow>> ListAllSegments();
  // Calls fn for every segment in id order until fn returns false. Rows are read in
  // batches with the mutex released in between, so fn may call this Database, and rows
  // written meanwhile may or may not be seen.
  Status ForEachSegment(const std::function<bool(const SegmentRow&)>& fn);
  // As ForEachSegment, over complete segments only, oldest start first, reading only the
  // columns retention needs. Cheap enough for a million rows.
  Status ForEachCompleteSegment(const std::function<bool(const SegmentBrief&)>& fn);
  // complete (or recording) -> deleting. Refused with kFailedPrecondition while an active
  // hold covers the segment, and with kUnavailable while a reader holds an unexpired
  // lease. Idempotent for a segment already deleting.
  Status MarkSegmentDeleting(int64_t id);
  // Removes a row in state deleting, or in state recording when crash recovery finds
  // its file held no whole fragment. A complete segment must be marked deleting first
  // (kFailedPrecondition).
  Status RemoveSegment(int64_t id);
  // A reader (playback, export) keeps the segment from being marked deleting until
  // `expires`. Renewing replaces the expiry.
  Status LeaseSegment(int64_t segment_id, const std::string& holder, UtcMicros expires);
  Status ReleaseSegmentLease(int64_t segment_id, const std::string& holder);

  // --- Runs and gaps -------------------------------------------------------------------
  Result<int64_t> BeginRun(const std::string& camera_id, UtcMicros start);
  Status EndRun(int64_t run_id, UtcMicros end);
  // The camera's run with the latest start, ended or not.
  Result<std::optional<RunRow>> LastRun(const std::string& camera_id);
  Status InsertGap(const GapRow& gap);
  // Gaps of camera_id overlapping [from, to), ordered by start.
  Result<std::vector<GapRow>> ListGaps(const std::string& camera_id, UtcMicros from, UtcMicros to);

  // --- Access log (see records/access_log.h) --------------------------------------------
  // Assigns id, at, prev_hash and hash in one transaction; returns the id.
  Result<int64_t> AppendAccess(const AccessEntry& entry);
  // Walks the whole chain. A failed verification is an ok Result with ok == false; a
  // non-ok Result means the log could not be read. With an anchor, also checks that the
  // anchored entry is still present and unchanged.
  Result<AuditVerification> VerifyAccessLog(
      const std::optional<AccessLogAnchor>& anchor = std::nullopt);
  // The last entry's id and hash; nullopt for an empty log.
  Result<std::optional<AccessLogAnchor>> AccessLogHead();
  Result<std::vector<AccessEntry>> QueryAccess(const AccessFilter& filter);
  // Viewings (docs/design/api.md): a start entry is appended together with its row in
  // open_viewings, an end entry together with the removal of its start's row, each in one
  // transaction. kFailedPrecondition when the start named is not open.
  Result<int64_t> AppendViewingStart(const AccessEntry& entry);
  Result<int64_t> AppendViewingEnd(const AccessEntry& entry, int64_t start_entry_id);
  // The start entries of viewings without an end entry, oldest first.
  Result<std::vector<AccessEntry>> ListOpenViewings();

  // --- Users and camera permissions ------------------------------------------------------
  Result<int64_t> CreateUser(const NewUser& user);
  Result<std::optional<UserRow>> GetUserById(int64_t id);
  Result<std::optional<UserRow>> GetUserByName(const std::string& name);
  Result<std::vector<UserRow>> ListUsers();
  Status SetUserDisabled(int64_t id, bool disabled);
  Status SetUserRole(int64_t id, Role role);
  Status SetPasswordHash(int64_t id, const std::string& password_hash, bool must_change_password);
  // Counts a failed login; at lock_after failures locks the account for lock_for_us.
  // Returns the new count.
  Result<int> RecordFailedLogin(int64_t id, int lock_after, int64_t lock_for_us);
  // Before a password is checked: counts the attempt as a failure in one statement, so
  // that parallel guesses cannot all read "not locked", and locks the account
  // when the count reaches lock_after. nullopt: the account is locked now (nothing
  // counted; the password must not be checked); else the new count. A success then calls
  // ResetFailedLogins. kNotFound for an unknown id.
  Result<std::optional<int>> ClaimLoginAttempt(int64_t id, int lock_after, int64_t lock_for_us);
  // After a successful login: count zero, lock cleared.
  Status ResetFailedLogins(int64_t id);
  Status GrantCamera(int64_t user_id, const std::string& camera_id);
  // --- Grants of the manager, DPO and admin roles ----------------------------------------
  // A pending grant of `role` to the account, replacing (superseding) any pending one.
  Result<int64_t> RequestRoleGrant(int64_t user_id, Role role, int64_t requested_by);
  // Marks the account's pending grant superseded (its role was set directly).
  Status SupersedeRoleGrants(int64_t user_id);
  Result<std::optional<RoleGrantRow>> GetRoleGrant(int64_t id);
  // Pending grants first, then the newest decided ones; at most limit rows.
  Result<std::vector<RoleGrantRow>> ListRoleGrants(int64_t limit);
  // Confirms (the account's role becomes the grant's) or refuses a pending grant, in one
  // transaction. kFailedPrecondition when the grant is not pending. The caller checks that
  // decided_by may decide it; the schema refuses the requester and the account itself.
  Status DecideRoleGrant(int64_t id, int64_t decided_by, bool confirm);
  Status RevokeCamera(int64_t user_id, const std::string& camera_id);
  Result<std::vector<std::string>> ListCameraPermissions(int64_t user_id);

  // --- Sessions ------------------------------------------------------------------------
  Status CreateSession(const SessionRow& session);
  Result<std::optional<SessionRow>> GetSession(const std::string& token_hash);
  // Sets last_seen to now; kNotFound if the session is gone.
  Status TouchSession(const std::string& token_hash);
  Status DeleteSession(const std::string& token_hash);
  Status DeleteUserSessions(int64_t user_id);
  // Deletes sessions idle for idle_timeout_us or older than max_age_us; returns how many.
  Result<int64_t> DeleteExpiredSessions(int64_t idle_timeout_us, int64_t max_age_us);

  // --- Holds ---------------------------------------------------------------------------
  // Needs a reason and at least one range with to > from. Returns the hold's id.
  Result<int64_t> CreateHold(const HoldRow& hold);
  Result<std::optional<HoldRow>> GetHold(int64_t id);
  Result<std::vector<HoldRow>> ListActiveHolds();
  // Active holds whose review time has come.
  Result<std::vector<HoldRow>> HoldsDueForReview();
  Status SetHoldReview(int64_t id, UtcMicros review);
  // kFailedPrecondition if already released, or if the hold was placed for a footage
  // request that is not closed: while a request is open (withdrawn included) its hold keeps
  // the footage it names, and only the request's closing lets it go (checked in the same
  // transaction as the release, so a request cannot reopen the question in between).
  Status ReleaseHold(int64_t id, int64_t released_by);
  // Whether an active hold overlaps [start, end) of the camera. A hold names cameras, and a
  // range on camera X holds X's sub stream too: footage recorded under "X--sub" (the id
  // config::SubStreamId gives it) is the same picture at a lower resolution. The same rule
  // applies where MarkSegmentDeleting and MarkSegmentsDeleting refuse held segments.
  Result<bool> IsSegmentHeld(const std::string& camera_id, UtcMicros start, UtcMicros end);
  // Every range of every active hold, for checking many segments at once.
  Result<std::vector<HoldRange>> ActiveHoldRanges();

  // --- Deletions, alarms, settings ---------------------------------------------------------
  Result<int64_t> RecordDeletion(const DeletionRow& deletion);
  // Deletions recorded at times in [from, to), oldest first.
  Result<std::vector<DeletionRow>> ListDeletions(UtcMicros from, UtcMicros to);
  // Raises an alarm of this kind, or updates the detail of the one already active;
  // returns the active alarm's id.
  Result<int64_t> RaiseAlarm(const std::string& kind, const std::string& detail);
  // Clears the active alarm of this kind, if any.
  Status ClearAlarm(const std::string& kind);
  Result<std::vector<AlarmRow>> ListActiveAlarms();
  // Active alarms and those cleared at or after cleared_since, newest raised first, at
  // most limit rows; with acknowledgement and notification (records/alarms.cpp).
  Result<std::vector<AlarmRow>> ListRecentAlarms(UtcMicros cleared_since, int limit);
  Result<std::optional<AlarmRow>> GetAlarm(int64_t id);
  // Records who acknowledged the alarm. kNotFound for no such alarm; kFailedPrecondition
  // when it is already acknowledged (the first person's name stays).
  Status AcknowledgeAlarm(int64_t id, int64_t user_id);
  // Alarms raised and never e-mailed, oldest first (cleared ones included: a camera that
  // was offline for ten minutes overnight is still news).
  Result<std::vector<AlarmRow>> ListAlarmsToNotify(int limit);
  Status MarkAlarmNotified(int64_t id);
  // Records that it will never be e-mailed (no relay configured when it was raised).
  Status MarkAlarmsNotNotified(UtcMicros raised_before);
  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status SetSetting(const std::string& key, const std::string& value,
                    std::optional<int64_t> updated_by);
  Result<int64_t> SchedulePolicyChange(const PolicyChangeRow& change);
  // Neither applied nor cancelled, ordered by effective time.
  Result<std::vector<PolicyChangeRow>> ListOpenPolicyChanges();
  Status MarkPolicyChangeApplied(int64_t id);
  Status CancelPolicyChange(int64_t id);

  // --- Retention batches ---------------------------------------------------------------
  // Marks each listed segment deleting in one transaction, under the same rules as
  // MarkSegmentDeleting, but skips instead of failing: a segment that is held, leased,
  // not complete or gone is left as it is. Returns the rows marked, in state deleting.
  Result<std::vector<SegmentRow>> MarkSegmentsDeleting(const std::vector<int64_t>& ids);
  // Ids of segments with an unexpired reader lease, ascending.
  Result<std::vector<int64_t>> ListLeasedSegments();

  // --- Export expiry -------------------------------------------------------------------
  Result<std::vector<ExportExpiryRow>> ListExportsForExpiry();
  // ready or failed -> expired (files about to be removed). kFailedPrecondition if an
  // active hold covers the export (same footage request, or an overlapping range) or the
  // export is in another state; idempotent for an export already expiring.
  Status MarkExportExpired(int64_t id);
  // Notes that an expired export's files are gone (deleted_us). kFailedPrecondition
  // unless the export is expired with files not yet marked gone.
  Status MarkExportFilesDeleted(int64_t id);

  // --- Footage requests (requests.cpp) ---------------------------------------------------
  // Inserts the request (state as given, normally received) with its ranges and a
  // "logged" event; created/updated are stamped. Returns the id.
  Result<int64_t> InsertFootageRequest(const FootageRequestRow& request);
  Result<std::optional<FootageRequestRow>> GetFootageRequest(int64_t id);
  // Newest first.
  Result<std::vector<FootageRequestRow>> ListFootageRequests(const RequestFilter& filter);
  // from -> to with an event naming the action. kFailedPrecondition if the request is not
  // in state `from` (someone else moved it), kNotFound if there is no such request.
  Status TransitionRequest(int64_t id, RequestState from, RequestState to, int64_t by,
                           const std::string& action, const std::string& note);
  // d.from -> approved or refused, naming the decider, time and reason.
  Status RecordRequestDecision(int64_t id, const RequestDecision& d);
  Status ExtendRequestDeadline(int64_t id, const DeadlineExtension& e);
  Status RecordSubjectNotification(int64_t id, const SubjectNotification& n);
  // Sets the DSAR's deadline and appends the clock's event, keeping the state.
  Status RecordDsarClockChange(int64_t id, const DsarClockChange& c);
  // from -> closed, with who and until when the request's footage stays held.
  Status CloseFootageRequest(int64_t id, RequestState from, int64_t by, UtcMicros retain_until,
                             const std::string& note);
  Result<int64_t> AddRequestVerification(const VerificationRow& v);
  Result<std::vector<VerificationRow>> ListRequestVerifications(int64_t request_id);
  Result<std::vector<RequestEventRow>> ListRequestEvents(int64_t request_id);
  // Active holds placed for requests that are closed with retain_until <= now.
  Result<std::vector<HoldRow>> ListRequestHoldsDue();

  // --- Exports and disclosures (export_records.cpp) ----------------------------------------
  // Inserts an export in state building with its ranges; returns the id.
  Result<int64_t> CreateExport(const ExportRow& e);
  Result<std::optional<ExportRow>> GetExport(int64_t id);
  Result<std::vector<ExportRow>> ListExportsForRequest(int64_t request_id);
  Status SetExportJob(int64_t export_id, int64_t job_id);
  // building or failed -> building, clearing the path and error: a fresh build.
  Status RestartExport(int64_t id);
  // building -> ready. kFailedPrecondition from any other state.
  Status MarkExportReady(int64_t id, const ExportReady& ready);
  // building -> failed with the reason.
  Status MarkExportFailed(int64_t id, const std::string& error);
  Status SetExportRedacted(int64_t id, bool redacted);
  // Records why an unredacted export may be released; once set it is not replaced.
  Status JustifyUnredactedExport(int64_t id, int64_t by, const std::string& justification);
  // Appends a handover of a ready export; at is the caller's (a handover may be logged
  // after the fact). Returns the id.
  Result<int64_t> RecordDisclosure(const DisclosureRow& d);
  // Disclosures handed over at times in [from, to), oldest first.
  Result<std::vector<DisclosureRow>> ListDisclosures(UtcMicros from, UtcMicros to);
  Result<std::vector<DisclosureRow>> ListDisclosuresForExport(int64_t export_id);

  // --- Jobs (jobs.cpp) -----------------------------------------------------------------
  // Queues a job; params must be valid JSON. Returns the id.
  Result<int64_t> EnqueueJob(const std::string& kind, const std::string& params,
                             std::optional<int64_t> created_by);
  Result<std::optional<JobRow>> GetJob(int64_t id);
  // Newest first; all states when state is unset.
  Result<std::vector<JobRow>> ListJobs(std::optional<JobState> state);
  // The oldest queued job of one of these kinds, moved to running for this worker
  // (attempts + 1, started stamped); nullopt when there is none.
  Result<std::optional<JobRow>> ClaimNextJob(const std::vector<std::string>& kinds,
                                             const std::string& worker);
  // Sets progress (clamped to 0..1) of a running job.
  Status SetJobProgress(int64_t id, double progress);
  // A queued job is cancelled at once; a running one is flagged and its worker stops at
  // its next check. Returns the state after the call. kFailedPrecondition if finished.
  Result<JobState> RequestJobCancel(int64_t id);
  // running -> succeeded, failed or cancelled, with a JSON result or an error.
  Status FinishJob(int64_t id, JobState final_state, const std::optional<std::string>& result,
                   const std::optional<std::string>& error);
  // After a restart: every running job of these kinds goes back to queued (progress 0),
  // or to cancelled if a cancel was requested. Returns the jobs requeued.
  Result<std::vector<JobRow>> RequeueRunningJobs(const std::vector<std::string>& kinds);

  // --- Statistics (activity.cpp) -----------------------------------------------------------
  // Counts of holds, exports, disclosures and deletions in [from, to); no identities.
  Result<ActivityCounts> CountActivity(UtcMicros from, UtcMicros to);

  // --- Redactions (schema v3; end of database.cpp) ------------------------------------------
  // A redacted copy made by `custodian redact`: input and output hashes, the redaction
  // record (JSON, as written beside the output), optionally the export it belongs to and the
  // reviewer who signed it off.
  struct RedactionRow {
    int64_t id = 0;
    std::optional<int64_t> export_id;
    std::string input_sha256;
    std::string output_sha256;
    std::string record_json;
    UtcMicros created;
    std::optional<int64_t> reviewer_user_id;
    std::optional<UtcMicros> signed_off;
  };
  // Inserts a redaction (id and created are set here); signed_off needs a reviewer.
  Result<int64_t> AddRedaction(const RedactionRow& row);
  Result<std::optional<RedactionRow>> GetRedaction(int64_t id);
  Result<std::vector<RedactionRow>> ListRedactionsForExport(int64_t export_id);
  // Records the reviewer's sign-off now; kFailedPrecondition if it was signed off already.
  Status SignOffRedaction(int64_t id, int64_t reviewer_user_id);
  // Replaces the output hash and record of a redaction not yet signed off (a redaction job
  // filling in its row as it runs); kFailedPrecondition once signed off.
  Status UpdateRedactionRecord(int64_t id, const std::string& output_sha256,
                               const std::string& record_json);

 private:
  using Lock = RecursiveMutexLock;

  Database(std::string path, const Clock& clock);
  Status Initialise(const OpenOptions& options) EXCLUDES(mu_);
  Status Migrate() REQUIRES(mu_);
  Result<int> ReadSchemaVersion() REQUIRES(mu_);
  Result<Statement> Prepare(const std::string& sql) REQUIRES(mu_);
  Status Exec(const std::string& sql) REQUIRES(mu_);
  Status ReadHoldRanges(HoldRow* hold) REQUIRES(mu_);
  // `where` is a fixed SQL condition with one parameter, bound to param.
  Result<std::vector<HoldRow>> ListHoldsWhere(const std::string& where, int64_t param);
  // requests.cpp, export_records.cpp.
  Status AppendRequestEvent(int64_t request_id, int64_t user_id, std::optional<RequestState> from,
                            RequestState to, const std::string& action, const std::string& note)
      REQUIRES(mu_);
  Result<std::vector<FootageRange>> ReadRanges(const std::string& sql, int64_t owner_id)
      REQUIRES(mu_);

  const std::string path_;
  const Clock& clock_;
  int schema_version_ = 0;  // set once by Open
  // Recursive so that a WithTransaction body can call the public methods. Every public
  // method takes it (the clang build checks that conn_ is used only with it held).
  mutable RecursiveMutex mu_;
  std::unique_ptr<Connection> conn_ GUARDED_BY(mu_);
};

}  // namespace custodian::records
