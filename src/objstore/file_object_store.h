// FileObjectStore: an ObjectStore on a local (or shared POSIX) directory.
//
// Layout: object "ab/cd/123" is the file <root>/ab/cd/123. Puts write a
// temporary file under <root>/.tmp/, fsync it, rename it into place (atomic
// replace; an open reader keeps the old inode) and fsync the target
// directory, plus the parent of every directory the put created. Temporary
// files left by a crash are removed when the store is opened. Directories
// are never removed (a concurrent put may be about to rename into one).
//
// Ownership: owns only the root path. Threading: thread-safe; all state is
// in the file system, temp names are unique per call.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "objstore/object_store.h"

namespace carelog::objstore {

class FileObjectStore final : public ObjectStore {
 public:
  // Creates `root` (and parents) if absent and clears stale temp files.
  static Result<std::unique_ptr<FileObjectStore>> open(const std::string& root);

  Status put(const std::string& key, const SharedBytes& bytes) override;
  Result<SharedBytes> get(const std::string& key, std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> head(const std::string& key) override;
  Result<ListPage> list(const std::string& prefix, const std::string& continuation = {},
                        int max_keys = 1000) override;
  Status remove(const std::string& key) override;
  // Failing while the last PUT failed (disk full, permissions, ...).
  StoreHealth health() const override;

  const std::string& root() const { return root_; }

 private:
  explicit FileObjectStore(std::string root) : root_(std::move(root)) {}
  std::string path_of(const std::string& key) const { return root_ + "/" + key; }
  // mkdir -p for the directories of `key`, fsyncing each new entry's parent.
  Status make_parent_dirs(const std::string& key);

  Status write_object(const std::string& key, const SharedBytes& bytes);

  std::string root_;
  mutable std::mutex health_mu_;
  std::string put_failure_;  // last PUT's error; empty after a success
  std::atomic<uint64_t> tmp_seq_{0};
};

}  // namespace carelog::objstore
