// Schema version 1. Long because it is the whole initial schema; docs/design/schema.md
// explains each table. Tables are STRICT so a column holds only its declared type.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV1[] = R"sql(
CREATE TABLE cameras (
  id TEXT PRIMARY KEY
     CHECK (length(id) BETWEEN 1 AND 64 AND id NOT GLOB '*[^a-z0-9-]*'),
  name TEXT NOT NULL,
  created_us INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  start_us INTEGER NOT NULL,
  end_us INTEGER CHECK (end_us IS NULL OR end_us >= start_us)
) STRICT;
CREATE INDEX runs_by_camera_start ON runs(camera_id, start_us);

CREATE TABLE segments (
  id INTEGER PRIMARY KEY,
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  run_id INTEGER REFERENCES runs(id),
  start_us INTEGER NOT NULL,
  end_us INTEGER,
  path TEXT NOT NULL UNIQUE
       CHECK (path <> '' AND substr(path, 1, 1) <> '/' AND path NOT GLOB '*..*'),
  bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  duration_us INTEGER NOT NULL DEFAULT 0 CHECK (duration_us >= 0),
  video_codec TEXT NOT NULL,
  width INTEGER NOT NULL CHECK (width >= 0),
  height INTEGER NOT NULL CHECK (height >= 0),
  audio_codec TEXT,
  audio_note TEXT,
  sha256 TEXT CHECK (sha256 IS NULL OR
                     (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
  state TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'deleting')),
  clock_synced INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
  clock_offset_us INTEGER,
  CHECK (end_us IS NULL OR (end_us >= start_us AND end_us - start_us <= 7200000000)),
  CHECK (state <> 'complete' OR (end_us IS NOT NULL AND sha256 IS NOT NULL))
) STRICT;
CREATE INDEX segments_by_camera_start ON segments(camera_id, start_us);
CREATE INDEX segments_by_state_start ON segments(state, start_us);
CREATE INDEX segments_by_run ON segments(run_id);

CREATE TABLE gaps (
  id INTEGER PRIMARY KEY,
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL CHECK (end_us >= start_us),
  reason TEXT NOT NULL CHECK (reason IN ('camera_offline', 'recorder_stopped', 'crash',
                                         'stall', 'auth_failed', 'error')),
  detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX gaps_by_camera_start ON gaps(camera_id, start_us);

CREATE TABLE camera_status (
  camera_id TEXT PRIMARY KEY REFERENCES cameras(id),
  online INTEGER NOT NULL CHECK (online IN (0, 1)),
  last_packet_us INTEGER,
  bitrate_bps INTEGER NOT NULL DEFAULT 0 CHECK (bitrate_bps >= 0),
  last_error TEXT,
  updated_us INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  role TEXT NOT NULL CHECK (role IN ('staff', 'manager', 'dpo', 'admin')),
  password_hash TEXT NOT NULL CHECK (password_hash <> ''),
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)),
  failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until_us INTEGER,
  created_us INTEGER NOT NULL
) STRICT;

CREATE TABLE camera_permissions (
  user_id INTEGER NOT NULL REFERENCES users(id),
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  granted_us INTEGER NOT NULL,
  PRIMARY KEY (user_id, camera_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY CHECK (length(token_hash) >= 32),
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  csrf_token TEXT NOT NULL CHECK (length(csrf_token) >= 16),
  client TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen_us);

-- No foreign keys: an access must always be recordable, whatever name or camera it
-- mentions, and the log must verify on its own.
CREATE TABLE access_log (
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  user_id INTEGER,
  user_name TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action <> ''),
  camera_id TEXT,
  from_us INTEGER,
  to_us INTEGER,
  purpose_category TEXT NOT NULL,
  purpose_text TEXT NOT NULL,
  client TEXT NOT NULL,
  result TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'error')),
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
) STRICT;
CREATE INDEX access_log_by_at ON access_log(at_us);
CREATE INDEX access_log_by_user ON access_log(user_id, at_us);
CREATE INDEX access_log_by_camera ON access_log(camera_id, at_us);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
  BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
  BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;

CREATE TABLE footage_requests (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('police', 'dsar', 'missing_person', 'insurer',
                                     'solicitor', 'internal', 'media')),
  requester_name TEXT NOT NULL CHECK (requester_name <> ''),
  organisation TEXT NOT NULL DEFAULT '',
  contact TEXT NOT NULL DEFAULT '',
  reference TEXT NOT NULL DEFAULT '',
  legal_basis TEXT NOT NULL DEFAULT '',
  requester_user_id INTEGER REFERENCES users(id),
  received_us INTEGER NOT NULL,
  deadline_us INTEGER,
  state TEXT NOT NULL CHECK (state IN ('received', 'verifying', 'awaiting_decision',
                                       'approved', 'refused', 'fulfilled', 'withdrawn')),
  logged_by INTEGER NOT NULL REFERENCES users(id),
  decided_by INTEGER REFERENCES users(id),
  decided_us INTEGER,
  decision_reason TEXT,
  subject_notified INTEGER CHECK (subject_notified IN (0, 1)),
  subject_notified_us INTEGER,
  subject_notification_note TEXT,
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL,
  CHECK (decided_by IS NULL OR requester_user_id IS NULL OR decided_by <> requester_user_id),
  CHECK (state NOT IN ('approved', 'refused', 'fulfilled') OR
         (decided_by IS NOT NULL AND decided_us IS NOT NULL AND
          coalesce(decision_reason, '') <> ''))
) STRICT;
CREATE INDEX footage_requests_by_state ON footage_requests(state, deadline_us);

CREATE TABLE request_ranges (
  request_id INTEGER NOT NULL REFERENCES footage_requests(id),
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  from_us INTEGER NOT NULL,
  to_us INTEGER NOT NULL CHECK (to_us > from_us)
) STRICT;
CREATE INDEX request_ranges_by_request ON request_ranges(request_id);

CREATE TABLE request_verifications (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES footage_requests(id),
  step TEXT NOT NULL CHECK (step <> ''),
  done_by INTEGER NOT NULL REFERENCES users(id),
  at_us INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX request_verifications_by_request ON request_verifications(request_id);

CREATE TABLE holds (
  id INTEGER PRIMARY KEY,
  reason TEXT NOT NULL CHECK (reason <> ''),
  owner_user_id INTEGER NOT NULL REFERENCES users(id),
  request_id INTEGER REFERENCES footage_requests(id),
  review_us INTEGER NOT NULL,
  created_us INTEGER NOT NULL,
  released_us INTEGER,
  released_by INTEGER REFERENCES users(id),
  CHECK ((released_us IS NULL) = (released_by IS NULL))
) STRICT;
CREATE INDEX holds_active ON holds(review_us) WHERE released_us IS NULL;

CREATE TABLE hold_ranges (
  hold_id INTEGER NOT NULL REFERENCES holds(id),
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  from_us INTEGER NOT NULL,
  to_us INTEGER NOT NULL CHECK (to_us > from_us)
) STRICT;
CREATE INDEX hold_ranges_by_hold ON hold_ranges(hold_id);
CREATE INDEX hold_ranges_by_camera ON hold_ranges(camera_id, from_us);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind <> ''),
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed',
                                       'cancelled')),
  progress REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
  params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  result TEXT,
  created_by INTEGER REFERENCES users(id),
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_by_state ON jobs(state, created_us);

CREATE TABLE exports (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES footage_requests(id),
  job_id INTEGER REFERENCES jobs(id),
  state TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed', 'expired',
                                       'deleted')),
  path TEXT,
  created_us INTEGER NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users(id),
  redacted INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1)),
  bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  manifest_sha256 TEXT CHECK (manifest_sha256 IS NULL OR length(manifest_sha256) = 64),
  expires_us INTEGER,
  deleted_us INTEGER,
  CHECK (state <> 'ready' OR (path IS NOT NULL AND manifest_sha256 IS NOT NULL))
) STRICT;
CREATE INDEX exports_by_request ON exports(request_id);
CREATE INDEX exports_by_expiry ON exports(state, expires_us);

CREATE TABLE export_ranges (
  export_id INTEGER NOT NULL REFERENCES exports(id),
  camera_id TEXT NOT NULL REFERENCES cameras(id),
  from_us INTEGER NOT NULL,
  to_us INTEGER NOT NULL CHECK (to_us > from_us)
) STRICT;
CREATE INDEX export_ranges_by_export ON export_ranges(export_id);

CREATE TABLE disclosures (
  id INTEGER PRIMARY KEY,
  export_id INTEGER NOT NULL REFERENCES exports(id),
  recipient_name TEXT NOT NULL CHECK (recipient_name <> ''),
  organisation TEXT NOT NULL DEFAULT '',
  reference TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL CHECK (method IN ('download', 'removable_media', 'email',
                                         'in_person', 'courier', 'other')),
  at_us INTEGER NOT NULL,
  authorised_by INTEGER NOT NULL REFERENCES users(id),
  recorded_by INTEGER NOT NULL REFERENCES users(id)
) STRICT;
CREATE INDEX disclosures_by_export ON disclosures(export_id);
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
  BEGIN SELECT RAISE(ABORT, 'disclosures are append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
  BEGIN SELECT RAISE(ABORT, 'disclosures are append-only'); END;

CREATE TABLE deletions (
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  camera_id TEXT REFERENCES cameras(id),
  from_us INTEGER NOT NULL,
  to_us INTEGER NOT NULL CHECK (to_us >= from_us),
  segment_count INTEGER NOT NULL CHECK (segment_count >= 0),
  bytes INTEGER NOT NULL CHECK (bytes >= 0),
  sha256s TEXT NOT NULL,
  rule TEXT NOT NULL CHECK (rule IN ('max_age', 'disk_pressure', 'quota', 'export_expiry',
                                     'manual')),
  export_id INTEGER REFERENCES exports(id),
  deleted_by INTEGER REFERENCES users(id),
  detail TEXT NOT NULL DEFAULT '',
  CHECK (rule <> 'manual' OR deleted_by IS NOT NULL)
) STRICT;
CREATE INDEX deletions_by_at ON deletions(at_us);
CREATE TRIGGER deletions_no_update BEFORE UPDATE ON deletions
  BEGIN SELECT RAISE(ABORT, 'deletions are append-only'); END;
CREATE TRIGGER deletions_no_delete BEFORE DELETE ON deletions
  BEGIN SELECT RAISE(ABORT, 'deletions are append-only'); END;

CREATE TABLE reader_leases (
  segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
  holder TEXT NOT NULL CHECK (holder <> ''),
  expires_us INTEGER NOT NULL,
  PRIMARY KEY (segment_id, holder)
) STRICT, WITHOUT ROWID;

CREATE TABLE alarms (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind <> ''),
  raised_us INTEGER NOT NULL,
  cleared_us INTEGER,
  detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX alarms_one_active_per_kind ON alarms(kind) WHERE cleared_us IS NULL;

CREATE TABLE settings (
  key TEXT PRIMARY KEY CHECK (key <> ''),
  value TEXT NOT NULL,
  updated_us INTEGER NOT NULL,
  updated_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE pending_policy_changes (
  id INTEGER PRIMARY KEY,
  camera_id TEXT REFERENCES cameras(id),
  key TEXT NOT NULL CHECK (key <> ''),
  old_value TEXT,
  new_value TEXT NOT NULL,
  requested_by INTEGER REFERENCES users(id),
  requested_us INTEGER NOT NULL,
  effective_us INTEGER NOT NULL CHECK (effective_us >= requested_us),
  applied_us INTEGER,
  cancelled_us INTEGER,
  CHECK (applied_us IS NULL OR cancelled_us IS NULL)
) STRICT;
CREATE INDEX pending_policy_changes_open ON pending_policy_changes(effective_us)
  WHERE applied_us IS NULL AND cancelled_us IS NULL;
)sql";

}  // namespace custodian::records
