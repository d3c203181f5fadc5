// KeyMap: the log cleaner's bounded "key -> latest offset" map.
//
// Keys are reduced to a 128-bit hash (two independent 64-bit hashes), so
// every entry has the same size whatever the key length: 24 bytes (16 hash +
// 8 offset) in one open-addressing table allocated up front. A map built for
// `memory_bytes` holds at most memory_bytes / 24 * 0.9 keys (Kafka's cleaner
// uses the same load factor); when it is full the cleaner stops mapping at a
// batch boundary and cleans only that far (the rest is cleaned by the next
// pass), so memory never grows with the number of keys.
//
// Two different keys sharing a 128-bit hash would make the older one look
// superseded; with n keys per pass that has probability ~ n^2 / 2^129.
//
// Threading: not thread-safe (one per cleaning pass).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace carelog::storage {

struct KeyHash {
  uint64_t a = 0;
  uint64_t b = 0;
  friend bool operator==(const KeyHash&, const KeyHash&) = default;
};

KeyHash hash_key(std::string_view key);

class KeyMap {
 public:
  static constexpr size_t kEntryBytes = 24;
  explicit KeyMap(uint64_t memory_bytes);

  // Number of keys put() accepts (at the load factor).
  size_t capacity() const { return max_keys_; }
  size_t size() const { return size_; }
  bool full() const { return size_ >= max_keys_; }
  // Records `offset` as the latest of `key` (offsets must not decrease per
  // key). Returns false, changing nothing, when a new key does not fit.
  bool put(const KeyHash& key, int64_t offset);
  std::optional<int64_t> get(const KeyHash& key) const;

 private:
  struct Slot {
    KeyHash key;
    int64_t offset = -1;  // -1: empty
  };
  size_t find_slot(const KeyHash& key) const;

  std::vector<Slot> slots_;
  size_t max_keys_ = 0;
  size_t size_ = 0;
};

}  // namespace carelog::storage
