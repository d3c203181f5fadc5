#include "metadata/metadata_store.h"

#include <filesystem>
#include <system_error>

#include "fmt/core.h"
#include "metadata/pg_metadata_store.h"
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {

bool is_postgresql_uri(std::string_view uri) {
  return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<MetadataStore>> open_metadata_store(const std::string& uri) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (is_postgresql_uri(uri)) {
    auto store = PgMetadataStore::open(uri);
    if (!store.ok()) return store.take_error();
    return std::unique_ptr<MetadataStore>(std::move(*store));
  }
  if (uri.rfind(kSqlite, 0) != 0)
    return Error{-1, fmt::format("metadata.store '{}': unsupported scheme (expected sqlite://<path> or "
                                 "postgresql://user:password@host:port/dbname)",
                                 pg::redact_uri(uri))};
  // "sqlite:///abs" leaves "/abs"; "sqlite://rel" leaves "rel".
  std::string path = uri.substr(kSqlite.size());
  if (path.empty() || path.back() == '/')
    return Error{-1, fmt::format("metadata.store '{}': missing database file path", uri)};
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
      return Error{56, fmt::format("metadata.store '{}': cannot create directory '{}': {}", uri,
                                   parent.string(), ec.message())};
  }
  auto store = SqliteMetadataStore::open(path);
  if (!store.ok()) return store.take_error();
  return std::unique_ptr<MetadataStore>(std::move(*store));
}

}  // namespace carelog::metadata
