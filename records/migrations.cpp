#include "records/migrations.h"

namespace custodian::records {

namespace {
constexpr Migration kMigrations[] = {
    {1, "initial schema", kSchemaV1},
    {2, "footage request workflow, exports and jobs", kSchemaV2},
    {3, "redaction records", kSchemaV3},
    {4, "segment ids never reused", kSchemaV4},
    {5, "viewings left open", kSchemaV5},
};
}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return Migrations().back().version; }

}  // namespace custodian::records
