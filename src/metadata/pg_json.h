// Helpers shared by the PostgreSQL engine's files (private to the module).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"
#include "common/uuid.h"
#include "metadata/pg_conn.h"

namespace carelog::metadata::pg {

// Compact JSON text for a jsonb parameter; invalid UTF-8 fails with 42.
Result<std::string> dump_json(const nlohmann::json& j);
// A 16-byte bytea column into `out`; false when it is not 16 bytes.
bool read_uuid(const Rows& rows, int row, int col, Uuid* out);
// Error 56 naming a table whose row could not be read.
Error malformed(const char* table);

}  // namespace carelog::metadata::pg
