// Schema version 4: segment ids are never reused.
//
// Version 1 declared segments.id as a plain INTEGER PRIMARY KEY, so SQLite hands the id of
// the newest row to the next insert once that row is deleted (recovery removes an empty
// segment row after a crash; retention deletes old ones). An access-log entry or an export
// that names segment 65 could then later point at a different file. AUTOINCREMENT makes
// SQLite keep the highest id ever issued (in sqlite_sequence) and never hand it out again.
// SQLite cannot change a column's declaration in place, so the table is rebuilt: create,
// copy, drop, rename, then the indexes again (foreign keys are off during migrations, and
// reader_leases' reference to segments(id) names the table, which exists again after the
// rename). Ids deleted before this migration above the highest id left cannot be known;
// from here on none is reused.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV4[] = R"sql(
CREATE TABLE segments_v4 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO segments_v4 SELECT * FROM segments;
DROP TABLE segments;
ALTER TABLE segments_v4 RENAME TO segments;
CREATE INDEX segments_by_camera_start ON segments(camera_id, start_us);
CREATE INDEX segments_by_state_start ON segments(state, start_us);
CREATE INDEX segments_by_run ON segments(run_id);
)sql";

}  // namespace custodian::records
