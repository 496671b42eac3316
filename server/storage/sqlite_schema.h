// The SQLite schema as an ordered list of migrations; see docs/storage.md.
#pragma once

#include "wattguard/storage/sqlite_db.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// Brings the database to the newest schema version in one transaction per migration.
// kCorruption if the file is not a database or has a version newer than this build knows.
Expected<void> migrate_schema(Db& db, int newest_version);

// Names of the rollup tables, indexed by Resolution (raw has none: empty string).
const char* rollup_table(Resolution res);

}  // namespace wattguard::storage
