// Schema version 8: what each camera is (make, model and firmware), as the camera said over
// ONVIF or an administrator typed it, kept with the camera's row so that an export's
// manifest can name the device that recorded the footage.
// Written as ALTER TABLE ... ADD COLUMN only, so that it can be renumbered at a merge.
#include "records/migrations.h"

namespace custodian::records {

extern const char kSchemaV8[] = R"sql(
ALTER TABLE cameras ADD COLUMN make TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN model TEXT NOT NULL DEFAULT '';
ALTER TABLE cameras ADD COLUMN firmware TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace custodian::records
