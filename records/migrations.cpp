#include "records/migrations.h"

namespace custodian::records {

namespace {
constexpr Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
    {2, "footage request workflow, exports and jobs", kSchemaV2},
    {3, "redaction records", kSchemaV3},
    {4, "segment ids never reused", kSchemaV4},
    {5, "role grants confirmed by a second person", kSchemaV5},
    {6, "viewings left open", kSchemaV6},
    {7, "alarms acknowledged and e-mailed", kSchemaV7},
    {8, "camera make, model and firmware", kSchemaV8},
};
}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return Migrations().back().version; }

}  // namespace custodian::records
