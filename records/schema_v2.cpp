// Schema version 2: the footage-request workflow, exports and jobs.
//
// footage_requests is rebuilt (SQLite cannot change a CHECK in place) to add the states
// export_prepared, disclosed and closed, the legal-basis code and detail, the DSAR deadline
// extension, closure and the request's own retention, and the rule that the person who
// logged a request never decides it. v1's 'fulfilled' becomes 'disclosed'. Everything else
// is added: request_events, and new columns on exports, disclosures and jobs.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV2[] = R"sql(
CREATE TABLE footage_requests_v2 (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('police', 'dsar', 'missing_person', 'insurer',
                                     'solicitor', 'internal', 'media')),
  requester_name TEXT NOT NULL CHECK (requester_name <> ''),
  organisation TEXT NOT NULL DEFAULT '',
  contact TEXT NOT NULL DEFAULT '',
  reference TEXT NOT NULL DEFAULT '',
  legal_basis TEXT NOT NULL DEFAULT '',
  legal_basis_detail TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  requester_user_id INTEGER REFERENCES users(id),
  received_us INTEGER NOT NULL,
  deadline_us INTEGER,
  extension_months INTEGER NOT NULL DEFAULT 0 CHECK (extension_months BETWEEN 0 AND 2),
  extension_reason TEXT,
  extension_told_us INTEGER,
  state TEXT NOT NULL CHECK (state IN ('received', 'verifying', 'awaiting_decision',
                                       'approved', 'refused', 'export_prepared', 'disclosed',
                                       'closed', 'withdrawn')),
  logged_by INTEGER NOT NULL REFERENCES users(id),
  decided_by INTEGER REFERENCES users(id),
  decided_us INTEGER,
  decision_reason TEXT,
  over_broad_justification TEXT,
  subject_notified INTEGER CHECK (subject_notified IN (0, 1)),
  subject_notified_us INTEGER,
  subject_notification_note TEXT,
  closed_us INTEGER,
  closed_by INTEGER REFERENCES users(id),
  retain_until_us INTEGER,
  created_us INTEGER NOT NULL,
  updated_us INTEGER NOT NULL,
  CHECK (decided_by IS NULL OR requester_user_id IS NULL OR decided_by <> requester_user_id),
  CHECK (decided_by IS NULL OR decided_by <> logged_by),
  CHECK (state NOT IN ('approved', 'refused', 'export_prepared', 'disclosed') OR
         (decided_by IS NOT NULL AND decided_us IS NOT NULL AND
          coalesce(decision_reason, '') <> '')),
  CHECK (extension_months = 0 OR
         (coalesce(extension_reason, '') <> '' AND extension_told_us IS NOT NULL)),
  CHECK ((state = 'closed') = (closed_us IS NOT NULL AND closed_by IS NOT NULL))
) STRICT;

INSERT INTO footage_requests_v2 (id, type, requester_name, organisation, contact, reference,
  legal_basis, requester_user_id, received_us, deadline_us, state, logged_by, decided_by,
  decided_us, decision_reason, subject_notified, subject_notified_us,
  subject_notification_note, created_us, updated_us)
SELECT id, type, requester_name, organisation, contact, reference, legal_basis,
  requester_user_id, received_us, deadline_us,
  CASE state WHEN 'fulfilled' THEN 'disclosed' ELSE state END, logged_by, decided_by,
  decided_us, decision_reason, subject_notified, subject_notified_us,
  subject_notification_note, created_us, updated_us
FROM footage_requests;

DROP TABLE footage_requests;
ALTER TABLE footage_requests_v2 RENAME TO footage_requests;
CREATE INDEX footage_requests_by_state ON footage_requests(state, deadline_us);
CREATE INDEX footage_requests_by_received ON footage_requests(received_us);

CREATE TABLE request_events (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES footage_requests(id),
  at_us INTEGER NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action <> ''),
  note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX request_events_by_request ON request_events(request_id, id);
CREATE TRIGGER request_events_no_update BEFORE UPDATE ON request_events
  BEGIN SELECT RAISE(ABORT, 'request_events are append-only'); END;
CREATE TRIGGER request_events_no_delete BEFORE DELETE ON request_events
  BEGIN SELECT RAISE(ABORT, 'request_events are append-only'); END;

ALTER TABLE exports ADD COLUMN include_originals INTEGER NOT NULL DEFAULT 0
  CHECK (include_originals IN (0, 1));
ALTER TABLE exports ADD COLUMN error TEXT;
ALTER TABLE exports ADD COLUMN key_id TEXT;
ALTER TABLE exports ADD COLUMN unredacted_justification TEXT;
ALTER TABLE exports ADD COLUMN justified_by INTEGER REFERENCES users(id);
ALTER TABLE exports ADD COLUMN justified_us INTEGER;

ALTER TABLE disclosures ADD COLUMN manifest_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE disclosures ADD COLUMN note TEXT NOT NULL DEFAULT '';

ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0
  CHECK (cancel_requested IN (0, 1));
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE jobs ADD COLUMN worker TEXT;
ALTER TABLE jobs ADD COLUMN started_us INTEGER;
ALTER TABLE jobs ADD COLUMN finished_us INTEGER;
ALTER TABLE jobs ADD COLUMN error TEXT;
)sql";

}  // namespace custodian::records
