// Schema version 7: alarms that a person acknowledges and that are e-mailed.
//
// The health page (docs/design/health.md) shows every alarm raised and cleared with its
// times; a manager, DPO or admin acknowledges an active one (who and when, with an
// access-log entry committed in the same transaction), and the alarm notifier e-mails each
// raised alarm once: notified_us is set only after the relay accepted the message, so a
// crash or a relay that is down means the mail is sent again later, never lost.
// Written as ALTER TABLE ... ADD COLUMN only, so that it can be renumbered at a merge.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV7[] = R"sql(
ALTER TABLE alarms ADD COLUMN acknowledged_us INTEGER;
ALTER TABLE alarms ADD COLUMN acknowledged_by INTEGER REFERENCES users(id);
ALTER TABLE alarms ADD COLUMN notified_us INTEGER;
CREATE INDEX alarms_by_raised ON alarms(raised_us);
)sql";

}  // namespace custodian::records
