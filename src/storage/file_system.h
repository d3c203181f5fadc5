// FileSystem: the narrow file API the WAL uses, so tests can inject faults
// and simulate crashes that lose unsynced data.
//
// Threading: a File may be used by one writer and any number of concurrent
// readers (pread); FileSystem methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace carelog::storage {

// One piece of a gathered write.
struct IoSlice {
  const void* data = nullptr;
  size_t size = 0;
};

class File {
 public:
  virtual ~File() = default;
  // Writes all of `size` bytes at the end of the file.
  virtual Status append(const void* data, size_t size) = 0;
  // Writes the slices, in order, at the end of the file (one gathered write
  // where the platform has one, so callers need not copy them together).
  virtual Status append_gathered(std::span<const IoSlice> slices) {
    for (const IoSlice& s : slices) CARELOG_RETURN_IF_ERROR(append(s.data, s.size));
    return Status::OK();
  }
  virtual Status pwrite(const void* data, size_t size, uint64_t offset) = 0;
  // Reads up to `size` bytes; returns the count (short only at end of file).
  virtual Result<size_t> pread(void* data, size_t size, uint64_t offset) = 0;
  virtual Status datasync() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens for read/write; creates the file when `create` is true.
  virtual Result<std::unique_ptr<File>> open(const std::string& path, bool create) = 0;
  // Names (not paths) of the entries of `dir`.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Creates `dir` and missing parents.
  virtual Status create_dirs(const std::string& dir) = 0;
  // Makes entries created/removed in `dir` durable.
  virtual Status sync_dir(const std::string& dir) = 0;
};

// The process-wide POSIX implementation (stateless).
FileSystem& posix_file_system();

}  // namespace carelog::storage
