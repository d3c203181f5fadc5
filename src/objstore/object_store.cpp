#include "objstore/object_store.h"

#include "fmt/core.h"
#include "objstore/file_object_store.h"
#include "objstore/s3_object_store.h"

namespace carelog::objstore {

std::vector<Status> ObjectStore::remove_batch(const std::vector<std::string>& keys) {
  std::vector<Status> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(remove(k));
  return out;
}

Status validate_key(std::string_view key) {
  auto bad = [&](std::string_view why) -> Status {
    // Keys are identifiers we generate, never payload, so they may be logged.
    return Error{kErrInvalidArgument, fmt::format("invalid object key '{}': {}", key, why)};
  };
  if (key.empty()) return bad("empty");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    std::string_view comp = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (comp.empty()) return bad("empty path component");
    if (comp[0] == '.') return bad("path component starts with '.'");
    // File systems cap a name at 255 bytes; S3 has no such limit, but the
    // backends must accept the same keys.
    if (comp.size() > 255) return bad("path component longer than 255 bytes");
    for (char c : comp)
      if (c == '\0' || c == '\\') return bad("contains NUL or backslash");
    if (slash == std::string_view::npos) return Status::OK();
    start = slash + 1;
  }
}

Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& uri) {
  return open_object_store(uri, S3Options{});
}

Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& uri, const S3Options& s3) {
  constexpr std::string_view kFile = "file://";
  constexpr std::string_view kS3 = "s3://";
  if (uri.rfind(kFile, 0) == 0) {
    std::string path = uri.substr(kFile.size());
    if (path.empty())
      return Error{kErrInvalidArgument, fmt::format("object.store '{}': missing directory path", uri)};
    auto store = FileObjectStore::open(path);
    if (!store.ok()) return store.take_error();
    return std::unique_ptr<ObjectStore>(std::move(*store));
  }
  if (uri.rfind(kS3, 0) == 0) {
    auto where = parse_s3_uri(uri);
    if (!where.ok()) return where.take_error();
    auto store = S3ObjectStore::open(*where, s3);
    if (!store.ok()) return store.take_error();
    if (s3.check_bucket_on_open) CARELOG_RETURN_IF_ERROR((*store)->check_bucket());
    return std::unique_ptr<ObjectStore>(std::move(*store));
  }
  return Error{
      kErrInvalidArgument,
      fmt::format("object.store '{}': unsupported scheme (expected file:///<dir> or s3://<bucket>/<prefix>)",
                  uri)};
}

}  // namespace carelog::objstore
