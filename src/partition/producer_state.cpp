#include "partition/producer_state.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

#include "common/crc32c.h"

namespace carelog::partition {

namespace {

// Snapshot layout (docs/formats/producer-snapshot.md), big-endian.
constexpr uint32_t kSnapshotMagic = 0x43505331;  // "CPS1"
constexpr uint16_t kSnapshotVersion = 2;
constexpr size_t kSnapshotHeader = 12;  // magic, version, flags, producer count
constexpr size_t kEntryHeaderV1 = 20;   // producer id, epoch, batch count, last timestamp
constexpr size_t kEntryHeader = 28;     // v2: + open transaction's first offset
constexpr size_t kBatchSize = 24;       // first seq, last seq, base offset, last offset
constexpr size_t kAbortedSize = 24;     // producer id, first offset, last offset
constexpr size_t kCrcSize = 4;

void put(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Bounds-checked big-endian cursor; callers check sizes before reading.
struct Cursor {
  std::span<const uint8_t> data;
  size_t pos = 0;
  uint64_t get(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | data[pos++];
    return v;
  }
  size_t left() const { return data.size() - pos; }
};

Error corrupt(const std::string& what) {
  return Error{ProducerStateTable::kSnapshotCorrupt, "producer snapshot: " + what};
}

bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return static_cast<int64_t>(next_seq) == static_cast<int64_t>(last_seq) + 1 ||
         (next_seq == 0 && last_seq == std::numeric_limits<int32_t>::max());
}

}  // namespace

ProducerStateTable::Check ProducerStateTable::check(const record::BatchHeader& h) const {
  Check c;
  if (h.base_sequence < 0) {
    c.error = LogError::kInvalidRecord;
    c.message = "idempotent batch without a sequence number";
    return c;
  }
  auto it = producers_.find(h.producer_id);
  // Unknown producer: accept any sequence, as Kafka does (its state may have
  // been lost with deleted data).
  if (it == producers_.end()) return c;
  const ProducerEntry& e = it->second;
  if (h.producer_epoch < e.epoch) {
    c.error = LogError::kInvalidProducerEpoch;
    c.message = fmt::format("producer epoch {} is older than current epoch {}", h.producer_epoch, e.epoch);
    return c;
  }
  if (h.producer_epoch > e.epoch) {
    if (h.base_sequence != 0) {
      c.error = LogError::kOutOfOrderSequence;
      c.message = fmt::format("new producer epoch {} must start at sequence 0, got {}", h.producer_epoch,
                              h.base_sequence);
    }
    return c;
  }
  const int32_t last_seq = h.last_sequence();
  for (const auto& b : e.batches) {
    if (b.first_seq == h.base_sequence && b.last_seq == last_seq) {
      c.duplicate = b;
      return c;
    }
  }
  if (!e.batches.empty() && !in_sequence(e.batches.back().last_seq, h.base_sequence)) {
    c.error = LogError::kOutOfOrderSequence;
    c.message = fmt::format(
        "out of order sequence {} (expected {})", h.base_sequence,
        e.batches.back().last_seq == std::numeric_limits<int32_t>::max() ? 0 : e.batches.back().last_seq + 1);
  }
  return c;
}

ProducerStateTable::Check ProducerStateTable::check_marker(const record::BatchHeader& h) const {
  Check c;
  auto it = producers_.find(h.producer_id);
  if (it != producers_.end() && h.producer_epoch < it->second.epoch) {
    c.error = LogError::kInvalidProducerEpoch;
    c.message =
        fmt::format("marker epoch {} is older than current epoch {}", h.producer_epoch, it->second.epoch);
  }
  return c;
}

void ProducerStateTable::update(const record::BatchHeader& h, int64_t base_offset) {
  ProducerEntry& e = producers_[h.producer_id];
  if (h.producer_epoch < e.epoch) return;  // stale (cannot happen for checked batches)
  if (h.producer_epoch > e.epoch) {
    e.epoch = h.producer_epoch;
    e.batches.clear();
  }
  e.last_timestamp = h.max_timestamp;
  if (h.control()) {
    if (e.txn_first_offset >= 0 && h.control_type == 0)
      aborted_.push_back(AbortedSpan{h.producer_id, e.txn_first_offset, base_offset});
    e.txn_first_offset = -1;
    return;
  }
  if (h.transactional() && e.txn_first_offset < 0) e.txn_first_offset = base_offset;
  e.batches.push_back(
      ProducerBatch{h.base_sequence, h.last_sequence(), base_offset, base_offset + h.last_offset_delta});
  while (e.batches.size() > kMaxBatches) e.batches.pop_front();
}

void ProducerStateTable::copy_entry_from(const ProducerStateTable& other, int64_t producer_id) {
  if (const ProducerEntry* e = other.find(producer_id)) producers_[producer_id] = *e;
}

void ProducerStateTable::merge_into(ProducerStateTable& dst) && {
  for (auto& [id, e] : producers_) dst.producers_[id] = std::move(e);
  dst.aborted_.insert(dst.aborted_.end(), aborted_.begin(), aborted_.end());
}

std::vector<int64_t> ProducerStateTable::last_batch_offsets() const {
  std::vector<int64_t> out;
  for (const auto& [id, e] : producers_)
    if (!e.batches.empty()) out.push_back(e.batches.back().base_offset);
  return out;
}

size_t ProducerStateTable::expire(int64_t now_ms, int64_t expiration_ms) {
  if (expiration_ms < 0) return 0;
  return std::erase_if(producers_, [&](const auto& kv) {
    return kv.second.txn_first_offset < 0 && now_ms - kv.second.last_timestamp >= expiration_ms;
  });
}

std::optional<int64_t> ProducerStateTable::first_unstable_offset() const {
  std::optional<int64_t> first;
  for (const auto& [id, e] : producers_) {
    if (e.txn_first_offset >= 0 && (!first || e.txn_first_offset < *first)) first = e.txn_first_offset;
  }
  return first;
}

std::vector<AbortedSpan> ProducerStateTable::aborted_between(int64_t from, int64_t to) const {
  std::vector<AbortedSpan> out;
  auto it = std::lower_bound(aborted_.begin(), aborted_.end(), from,
                             [](const AbortedSpan& a, int64_t off) { return a.last_offset < off; });
  for (; it != aborted_.end(); ++it) {
    if (it->first_offset < to) out.push_back(*it);
  }
  return out;
}

void ProducerStateTable::prune_aborted(int64_t log_start) {
  std::erase_if(aborted_, [&](const AbortedSpan& a) { return a.last_offset < log_start; });
}

void ProducerStateTable::forget_aborted(const std::vector<int64_t>& marker_offsets) {
  if (marker_offsets.empty()) return;
  std::erase_if(aborted_, [&](const AbortedSpan& a) {
    return std::find(marker_offsets.begin(), marker_offsets.end(), a.last_offset) != marker_offsets.end();
  });
}

std::vector<uint8_t> ProducerStateTable::encode() const {
  // Sorted by producer id so equal tables encode identically.
  std::vector<const std::pair<const int64_t, ProducerEntry>*> sorted;
  sorted.reserve(producers_.size());
  for (const auto& kv : producers_) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::vector<uint8_t> out;
  out.reserve(kSnapshotHeader + kCrcSize + producers_.size() * (kEntryHeader + kBatchSize * kMaxBatches));
  put(out, kSnapshotMagic, 4);
  put(out, kSnapshotVersion, 2);
  put(out, 0, 2);  // flags
  put(out, sorted.size(), 4);
  for (const auto* kv : sorted) {
    const ProducerEntry& e = kv->second;
    put(out, static_cast<uint64_t>(kv->first), 8);
    put(out, static_cast<uint16_t>(e.epoch), 2);
    put(out, e.batches.size(), 2);
    put(out, static_cast<uint64_t>(e.last_timestamp), 8);
    put(out, static_cast<uint64_t>(e.txn_first_offset), 8);
    for (const auto& b : e.batches) {
      put(out, static_cast<uint32_t>(b.first_seq), 4);
      put(out, static_cast<uint32_t>(b.last_seq), 4);
      put(out, static_cast<uint64_t>(b.base_offset), 8);
      put(out, static_cast<uint64_t>(b.last_offset), 8);
    }
  }
  put(out, aborted_.size(), 4);
  for (const auto& a : aborted_) {
    put(out, static_cast<uint64_t>(a.producer_id), 8);
    put(out, static_cast<uint64_t>(a.first_offset), 8);
    put(out, static_cast<uint64_t>(a.last_offset), 8);
  }
  put(out, crc32c(out.data(), out.size()), 4);
  return out;
}

Result<ProducerStateTable> ProducerStateTable::decode(std::span<const uint8_t> bytes) {
  if (bytes.size() < kSnapshotHeader + kCrcSize) return corrupt("too short");
  Cursor crc_at{bytes, bytes.size() - kCrcSize};
  if (crc_at.get(4) != crc32c(bytes.data(), bytes.size() - kCrcSize)) return corrupt("CRC mismatch");
  Cursor c{bytes.first(bytes.size() - kCrcSize)};
  if (c.get(4) != kSnapshotMagic) return corrupt("bad magic");
  const auto version = c.get(2);
  if (version != 1 && version != kSnapshotVersion) return corrupt(fmt::format("unknown version {}", version));
  const size_t entry_header = version == 1 ? kEntryHeaderV1 : kEntryHeader;
  if (c.get(2) != 0) return corrupt("unknown flags");
  const uint64_t count = c.get(4);
  if (count > c.left() / entry_header) return corrupt("producer count exceeds the data");
  ProducerStateTable t;
  int64_t previous = -1;
  for (uint64_t i = 0; i < count; ++i) {
    if (c.left() < entry_header) return corrupt("truncated producer entry");
    const auto id = static_cast<int64_t>(c.get(8));
    ProducerEntry e;
    e.epoch = static_cast<int16_t>(c.get(2));
    const auto batches = c.get(2);
    e.last_timestamp = static_cast<int64_t>(c.get(8));
    if (version >= 2) {
      e.txn_first_offset = static_cast<int64_t>(c.get(8));
      if (e.txn_first_offset < -1) return corrupt("bad transaction first offset");
    }
    if (id < 0 || id <= previous) return corrupt("producer ids not ascending");
    if (batches > kMaxBatches || c.left() < batches * kBatchSize) return corrupt("bad batch count");
    for (uint64_t j = 0; j < batches; ++j) {
      ProducerBatch b;
      b.first_seq = static_cast<int32_t>(c.get(4));
      b.last_seq = static_cast<int32_t>(c.get(4));
      b.base_offset = static_cast<int64_t>(c.get(8));
      b.last_offset = static_cast<int64_t>(c.get(8));
      if (b.base_offset < 0 || b.last_offset < b.base_offset) return corrupt("bad batch offsets");
      e.batches.push_back(b);
    }
    t.producers_.emplace(id, std::move(e));
    previous = id;
  }
  if (version >= 2) {
    if (c.left() < 4) return corrupt("truncated aborted-transaction count");
    const uint64_t aborted = c.get(4);
    if (aborted > c.left() / kAbortedSize) return corrupt("aborted-transaction count exceeds the data");
    int64_t previous_last = -1;
    for (uint64_t i = 0; i < aborted; ++i) {
      AbortedSpan a;
      a.producer_id = static_cast<int64_t>(c.get(8));
      a.first_offset = static_cast<int64_t>(c.get(8));
      a.last_offset = static_cast<int64_t>(c.get(8));
      if (a.producer_id < 0 || a.first_offset < 0 || a.last_offset < a.first_offset ||
          a.last_offset <= previous_last)
        return corrupt("bad aborted transaction");
      previous_last = a.last_offset;
      t.aborted_.push_back(a);
    }
  }
  if (c.left() != 0) return corrupt("trailing bytes");
  return t;
}

const ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace carelog::partition
