// MemFileSystem: an in-memory FileSystem for tests, with fault injection and
// crash simulation. Tracks, per file, how many bytes were made durable by
// datasync and whether its directory entry was made durable by sync_dir;
// crash() drops everything else, as a power loss would.
//
// Threading: all methods are thread-safe (one mutex for the namespace, one
// per file for contents).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/file_system.h"

namespace carelog::storage {

class MemFileSystem final : public FileSystem {
 public:
  struct Node {
    std::mutex mu;
    std::vector<uint8_t> data;
    size_t synced = 0;           // bytes that survive a crash
    bool entry_durable = false;  // directory entry survives a crash
  };

  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status create_dirs(const std::string& dir) override;
  Status sync_dir(const std::string& dir) override;

  // Fault injection: the n-th write/sync from now (1 = the next one) fails
  // with EIO; 0 disables. A failing write with `torn` set first stores half
  // of its bytes, like a short write before a crash.
  void fail_write_at(int n, bool torn = false) {
    write_countdown_ = n;
    torn_ = torn;
  }
  void fail_sync_at(int n) { sync_countdown_ = n; }
  // Makes every datasync take this long (to make group commit observable).
  void set_sync_delay(std::chrono::microseconds d) { sync_delay_us_ = d.count(); }

  // Power loss: files lose unsynced bytes; files whose entry was never made
  // durable disappear. Open File handles must not be used afterwards.
  void crash();

  // Direct access for tests (corrupting bytes, checking sizes).
  std::shared_ptr<Node> node(const std::string& path);

  uint64_t write_count() const { return writes_.load(); }
  uint64_t sync_count() const { return syncs_.load(); }

  // Called by MemFile.
  Status before_write();
  Status before_sync();
  bool torn() const { return torn_; }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::set<std::string> dirs_;
  std::atomic<int> write_countdown_{0};
  std::atomic<int> sync_countdown_{0};
  std::atomic<bool> torn_{false};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<int64_t> sync_delay_us_{0};
};

}  // namespace carelog::storage
