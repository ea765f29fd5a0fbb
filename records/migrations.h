// The records schema as an ordered list of migrations from an empty file.
//
// Migration N takes a database at version N-1 to version N. To change the schema, append
// a Migration with the next version number (its SQL in its own schema_vN.cpp) and a note
// in docs/design/schema.md; never edit a migration that has shipped. Migrations run inside
// one transaction with foreign-key enforcement off, followed by a foreign_key_check, so a
// migration may rebuild a table (create new, copy, drop old, rename) as SQLite requires for
// changing constraints.
#pragma once

#include <span>

namespace custodian::records {

struct Migration {
  int version;
  const char* summary;
  const char* sql;
};

// Ordered by version, starting at 1, without gaps.
std::span<const Migration> Migrations();
// The version an up-to-date database has: Migrations().back().version.
int LatestSchemaVersion();

// The SQL of each migration, defined in schema_vN.cpp.
extern const char kSchemaV1[];
extern const char kSchemaV2[];
extern const char kSchemaV3[];  // redactions
extern const char kSchemaV4[];  // segments.id AUTOINCREMENT
extern const char kSchemaV5[];  // role grants confirmed by a second person
extern const char kSchemaV6[];  // open_viewings
extern const char kSchemaV7[];  // alarms acknowledged and e-mailed
extern const char kSchemaV8[];  // camera make, model and firmware

}  // namespace custodian::records
