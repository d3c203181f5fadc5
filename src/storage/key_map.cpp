#include "storage/key_map.h"

#include <algorithm>
#include <cstring>

namespace carelog::storage {
namespace {

uint64_t mix(uint64_t z) {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Word-at-a-time multiply/rotate hash with a seed; the two lanes use
// different seeds and constants so they are independent.
uint64_t lane(std::string_view key, uint64_t seed, uint64_t k1, uint64_t k2) {
  uint64_t h = seed ^ (key.size() * k1);
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    h ^= rotl(w * k1, 31) * k2;
    h = rotl(h, 27) * 5 + 0x52dce729;
  }
  uint64_t tail = 0;
  for (size_t j = 0; i + j < key.size(); ++j) tail |= uint64_t(uint8_t(key[i + j])) << (8 * j);
  h ^= rotl(tail * k2, 33) * k1;
  return mix(h);
}

}  // namespace

KeyHash hash_key(std::string_view key) {
  return KeyHash{lane(key, 0x9e3779b97f4a7c15ull, 0x87c37b91114253d5ull, 0x4cf5ad432745937full),
                 lane(key, 0xc2b2ae3d27d4eb4full, 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull)};
}

KeyMap::KeyMap(uint64_t memory_bytes) {
  const size_t slots = std::max<size_t>(16, memory_bytes / kEntryBytes);
  slots_.resize(slots);
  max_keys_ = slots * 9 / 10;
}

size_t KeyMap::find_slot(const KeyHash& key) const {
  size_t i = key.a % slots_.size();
  for (;;) {
    const Slot& s = slots_[i];
    if (s.offset < 0 || s.key == key) return i;
    i = i + 1 == slots_.size() ? 0 : i + 1;
  }
}

bool KeyMap::put(const KeyHash& key, int64_t offset) {
  Slot& s = slots_[find_slot(key)];
  if (s.offset < 0) {
    if (full()) return false;
    s.key = key;
    size_++;
  }
  s.offset = offset;
  return true;
}

std::optional<int64_t> KeyMap::get(const KeyHash& key) const {
  const Slot& s = slots_[find_slot(key)];
  if (s.offset < 0) return std::nullopt;
  return s.offset;
}

}  // namespace carelog::storage
