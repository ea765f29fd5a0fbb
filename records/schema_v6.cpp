// Schema version 6: viewings left open.
//
// The API logs viewing sessions rather than requests: a start entry when a person begins
// viewing footage and an end entry when they stop (docs/design/api.md, "Viewings").
// open_viewings names every start entry whose end entry is not yet written. The start
// entry and its row are committed in one transaction, and so are the end entry and the
// row's removal, so after a crash the rows left are exactly the viewings that were never
// ended; the next start of the server ends each with "ended: unknown (server stopped)".
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV6[] = R"sql(
CREATE TABLE open_viewings (
  start_entry_id INTEGER PRIMARY KEY REFERENCES access_log(id)
) STRICT;
)sql";

}  // namespace custodian::records
