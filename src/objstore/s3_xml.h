// A small, bounded XML reader for the handful of S3 response documents
// Carelog parses (ListObjectsV2, DeleteObjects, multipart, errors).
//
// Not a general XML parser: it finds elements by exact name and returns their
// content; nested elements of the same name are not supported (S3 responses
// have none). Every scan is linear and never reads out of bounds, so hostile
// or truncated input yields "not found" / an error, never a crash.
// Stateless: safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carelog::objstore::s3::xml {

// Raw inner content (markup included) of each top-to-bottom occurrence of
// <name>...</name> in `doc`. An empty element <name/> yields "".
// Attributes on the start tag are allowed and ignored.
std::vector<std::string_view> elements(std::string_view doc, std::string_view name);

// The first element's inner content, or nullopt.
std::optional<std::string_view> first(std::string_view doc, std::string_view name);

// Decodes character data: the five predefined entities and numeric
// references (&#N; &#xN;, encoded as UTF-8); CDATA sections are copied
// verbatim. Returns nullopt on malformed or unknown references or markup.
std::optional<std::string> text(std::string_view content);

// first() followed by text(); nullopt when absent or malformed.
std::optional<std::string> first_text(std::string_view doc, std::string_view name);

// Escapes &, <, >, ", ' for element content or attribute values.
std::string escape(std::string_view s);

}  // namespace carelog::objstore::s3::xml
