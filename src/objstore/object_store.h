// ObjectStore: the narrow object-storage API Carelog's storage engine uses
// (put whole immutable objects, ranged get, head, paginated list, delete).
//
// Semantics every backend must provide (checked by the contract test suite
// in tests/object_store_contract_test.cpp, which each backend runs):
//   * put(key, bytes) is atomic: a reader sees the whole new object or the
//     previous state, never a partial object. Once put returns OK the object
//     is durable. A put to an existing key replaces it.
//   * get(key, range) returns the requested bytes. A range that extends past
//     the end is clamped (as S3 does); a range starting past the end fails
//     with kErrInvalidArgument. ByteRange::last(n) reads the final n bytes
//     (the whole object when n >= size).
//   * list(prefix, continuation, max_keys) returns keys in byte-wise
//     ascending order, at most max_keys per page; `next_continuation` is set
//     when more keys may follow and is passed back to get the next page.
//   * remove(key) is idempotent: removing an absent key succeeds (S3 does
//     the same, which makes retried deletes safe).
//
// Keys: 1..1024 bytes, '/'-separated components of 1..255 bytes, no
// component starting with '.', no NUL or backslash, no leading '/'. Backends
// reject other keys with kErrInvalidArgument (this rules out keys escaping a
// file backend's root and keeps file and S3 backends interchangeable).
//
// Errors carry one of the codes below so callers can retry transient
// failures (a future S3 backend maps HTTP 5xx/throttling to kErrTransient).
//
// Threading: implementations are thread-safe. Calls are synchronous and may
// block on disk or network I/O: call them from storage threads, never from a
// network I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace carelog::objstore {

struct S3Options;  // s3_options.h

// Error codes (Error::code). A distinct range so they are never mistaken for
// Kafka error codes; map them before anything reaches a client.
inline constexpr int32_t kErrNotFound = 2001;         // key does not exist
inline constexpr int32_t kErrTransient = 2002;        // retry may succeed (I/O error, throttling, full disk)
inline constexpr int32_t kErrPermanent = 2003;        // retrying will not help (permissions, unsupported)
inline constexpr int32_t kErrInvalidArgument = 2004;  // bad key or range (caller bug)
inline constexpr int32_t kErrCorrupt = 2005;          // object bytes fail validation (set by readers)

inline bool is_not_found(const Error& e) { return e.code == kErrNotFound; }
inline bool is_transient(const Error& e) { return e.code == kErrTransient; }

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool suffix = false;  // true: the last `length` bytes; `offset` unused

  static ByteRange at(uint64_t offset, uint64_t length) { return {offset, length, false}; }
  static ByteRange last(uint64_t length) { return {0, length, true}; }
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Opaque; equal etags mean the same object version. Not a content hash.
  std::string etag;
  int64_t mtime_ms = 0;  // last modification, wall clock ms since epoch
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  // Set when more keys may follow; pass to the next list() call.
  std::optional<std::string> next_continuation;
};

// What an operator's health check reports about a store.
struct StoreHealth {
  bool ok = true;
  std::string target;  // where the store is, e.g. "s3://bucket/prefix at https://host"
  std::string reason;  // why it is failing (empty when ok)
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Whether the last operations worked (see each backend). The default has
  // nothing to report.
  virtual StoreHealth health() const { return {}; }

  virtual Status put(const std::string& key, const SharedBytes& bytes) = 0;
  // Whole object when `range` is empty.
  virtual Result<SharedBytes> get(const std::string& key, std::optional<ByteRange> range = std::nullopt) = 0;
  virtual Result<ObjectInfo> head(const std::string& key) = 0;
  // `continuation` is empty for the first page. max_keys is clamped to
  // [1, 1000].
  virtual Result<ListPage> list(const std::string& prefix, const std::string& continuation = {},
                                int max_keys = 1000) = 0;
  virtual Status remove(const std::string& key) = 0;
  // One Status per key, in order. The default calls remove() per key;
  // backends with a bulk API (S3 DeleteObjects) override it.
  virtual std::vector<Status> remove_batch(const std::vector<std::string>& keys);
};

// Validates a key against the rules above.
Status validate_key(std::string_view key);

// Opens the backend named by an `object.store` URI:
//   file:///abs/dir   FileObjectStore rooted at /abs/dir (created if absent)
//   file://rel/dir    relative to the process working directory
//   s3://bucket[/prefix]  S3ObjectStore (s3_object_store.h); keys live under
//                         prefix/. Options come from `s3` (the broker builds
//                         them from its s3.* config); the one-argument form
//                         uses defaults (AWS environment variables / files).
//                         Unless s3.check_bucket_on_open is false, the bucket
//                         is probed first, so wrong credentials or a missing
//                         bucket fail here with a clear message.
Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& uri);
Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& uri, const S3Options& s3);

}  // namespace carelog::objstore
