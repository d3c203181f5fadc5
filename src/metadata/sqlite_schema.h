// Versioned, forward-only schema migrations for the SQLite metadata store.
// Migration N (1-based) upgrades a database from version N-1 to N. Existing
// entries are never edited once released: add a new one instead, and
// document it in docs/formats/metadata-sqlite.md.
#pragma once

#include "common/result.h"
#include "metadata/sqlite_db.h"

namespace carelog::metadata::sqlite {

// The version this build writes and understands.
int current_schema_version();

// Brings the database to current_schema_version(), one transaction per
// migration. Refuses a database whose version is newer than this build's.
// Returns the resulting version.
Result<int> migrate(Db& db);

}  // namespace carelog::metadata::sqlite
