// Schema version 5: grants of the manager, DPO and admin roles wait for a second person.
//
// One admin alone could otherwise create two manager accounts whose first passwords they
// know and approve their own footage request. A grant of a privileged role made through the
// API is a row here in state 'pending'; the role changes only when another admin or the DPO
// (neither the requester nor the account concerned) confirms it. Rows are never deleted:
// the table is the record of who asked for which grant and who decided it.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV5[] = R"sql(
CREATE TABLE role_grants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  role TEXT NOT NULL CHECK (role IN ('manager', 'dpo', 'admin')),
  requested_by INTEGER NOT NULL REFERENCES users(id),
  requested_us INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'refused', 'superseded')),
  decided_by INTEGER REFERENCES users(id),
  decided_us INTEGER,
  CHECK (requested_by <> user_id),
  CHECK ((state = 'pending') = (decided_us IS NULL)),
  CHECK (decided_by IS NULL OR (decided_by <> requested_by AND decided_by <> user_id))
) STRICT;
CREATE UNIQUE INDEX role_grants_one_pending ON role_grants(user_id) WHERE state = 'pending';
CREATE INDEX role_grants_by_state ON role_grants(state, requested_us);
)sql";

}  // namespace custodian::records
