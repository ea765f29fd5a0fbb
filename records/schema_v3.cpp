// Schema version 3: the redaction records.
//
// One row per redacted copy made by `custodian redact`: the hashes of what went in and what
// came out, the whole redaction record (mode, detectors and parameters, manual regions,
// frames flagged for review) as JSON, and the reviewer's sign-off. A redaction may belong to
// an export (the copy that left the building) or stand alone.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV3[] = R"sql(
CREATE TABLE redactions (
  id INTEGER PRIMARY KEY,
  export_id INTEGER REFERENCES exports(id),
  input_sha256 TEXT NOT NULL CHECK (length(input_sha256) = 64),
  output_sha256 TEXT NOT NULL CHECK (length(output_sha256) = 64),
  record_json TEXT NOT NULL CHECK (json_valid(record_json)),
  created_us INTEGER NOT NULL,
  reviewer_user_id INTEGER REFERENCES users(id),
  signed_off_us INTEGER,
  CHECK (signed_off_us IS NULL OR reviewer_user_id IS NOT NULL)
) STRICT;
CREATE INDEX redactions_by_export ON redactions(export_id);
)sql";

}  // namespace custodian::records
