// Importing another registry's schemas (docs/schema-registry.md#import),
// keeping their ids and versions so existing records still resolve:
//
//   - a JSON export: the array `GET /schemas?deleted=true` answers on any
//     Confluent-compatible registry ([{subject, version, id, schemaType,
//     schema, references}], `deleted` optional);
//   - the `_schemas` topic: one JSON object per line with the record's key
//     and value as strings, as `kcat -C -t _schemas -e -J` prints them
//     ({"key": "...", "payload": "..."}); SCHEMA, CONFIG and DELETE_SUBJECT
//     records are applied in order, NOOP and others skipped.
//
// Idempotent: importing the same file again changes nothing. A schema id
// already used by other content fails the import (42205).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "registry/registry.h"

namespace carelog::registry {

// Returns how many schema versions were applied.
Result<int> import_text(Registry& registry, std::string_view text);
Result<int> import_file(Registry& registry, const std::string& path);

}  // namespace carelog::registry
