// Versioned, forward-only schema migrations for the PostgreSQL metadata
// store. Migration N (1-based) upgrades a database from version N-1 to N.
// Released entries are never edited: add a new one (CREATE OR REPLACE for
// functions) and document it in docs/formats/metadata-postgresql.md.
//
// Several brokers may open the same database at once: each migration step
// runs in one transaction under a transaction-scoped advisory lock, and the
// version is re-checked inside it, so exactly one broker applies each step.
#pragma once

#include "common/result.h"
#include "metadata/pg_conn.h"

namespace carelog::metadata::pg {

// The version this build writes and understands.
int current_schema_version();

// Brings the database (the first schema on the connection's search_path)
// to current_schema_version(). Refuses a database whose version is newer
// than this build's. Returns the resulting version.
Result<int> migrate(Connection& conn);

}  // namespace carelog::metadata::pg
