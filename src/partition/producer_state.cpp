#include "partition/producer_state.h"

#include <fmt/core.h>

#include <limits>

namespace carelog::partition {

namespace {

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

void ProducerStateTable::update(const record::BatchHeader& h, int64_t base_offset) {
  ProducerEntry& e = producers_[h.producer_id];
  if (h.producer_epoch < e.epoch) return;  // stale (cannot happen for checked batches)
  if (h.producer_epoch > e.epoch) {
    e.epoch = h.producer_epoch;
    e.batches.clear();
  }
  e.batches.push_back(
      ProducerBatch{h.base_sequence, h.last_sequence(), base_offset, base_offset + h.last_offset_delta});
  while (e.batches.size() > kMaxBatches) e.batches.pop_front();
}

void ProducerStateTable::copy_entry_from(const ProducerStateTable& other, int64_t producer_id) {
  if (const ProducerEntry* e = other.find(producer_id)) producers_[producer_id] = *e;
}

void ProducerStateTable::merge_into(ProducerStateTable& dst) && {
  for (auto& [id, e] : producers_) dst.producers_[id] = std::move(e);
}

const ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace carelog::partition
