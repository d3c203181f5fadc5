// Transaction coordinator types: the state of one transactional id, the
// coordinator's configuration and the hooks through which it reaches the
// rest of the broker (markers into partitions, group offsets, producer ids).
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace carelog::txn {

// Kafka's TransactionState, with its wire names (DescribeTransactions,
// ListTransactions) and its numbering in the coordinator's state record.
enum class TxnState : int8_t {
  kEmpty = 0,
  kOngoing = 1,
  kPrepareCommit = 2,
  kPrepareAbort = 3,
  kCompleteCommit = 4,
  kCompleteAbort = 5,
  kDead = 6,
  kPrepareEpochFence = 7,
};

std::string_view state_name(TxnState s);
// Case-insensitive, as kafka-transactions.sh --state passes them.
std::optional<TxnState> parse_state(std::string_view name);

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// An offset staged by TxnOffsetCommit; committed to the group with the
// transaction.
struct PendingOffset {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  friend bool operator==(const PendingOffset&, const PendingOffset&) = default;
};

// Everything durable about one transactional id (docs/formats/txn-state.md).
struct TxnMetadata {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  // The id/epoch before the last bump, so a producer retrying an
  // InitProducerId or EndTxn whose answer it lost is recognised.
  int64_t last_producer_id = -1;
  int16_t last_producer_epoch = -1;
  int32_t timeout_ms = 60000;
  TxnState state = TxnState::kEmpty;
  std::set<TopicPartition> partitions;
  std::set<std::string> groups;
  std::vector<PendingOffset> offsets;
  int64_t start_ms = -1;   // wall clock: when the transaction became Ongoing
  int64_t update_ms = -1;  // wall clock: last state change
  // 2 when the producer uses transaction version 2 (KIP-890 part 2: EndTxn
  // v5, an epoch bump at every transaction end); 1 otherwise.
  int8_t txn_version = 1;
  friend bool operator==(const TxnMetadata&, const TxnMetadata&) = default;
};

struct TxnConfig {
  int32_t max_timeout_ms = 900000;          // transaction.max.timeout.ms
  int64_t abort_check_interval_ms = 10000;  // transaction.abort.timed.out.transaction.cleanup.interval.ms
  int64_t retry_interval_ms = 1000;         // retrying unfinished marker writes
  int64_t id_expiration_ms = 7LL * 24 * 3600 * 1000;  // transactional.id.expiration.ms
};

// The broker parts the coordinator drives. Each runs without the
// coordinator's lock held; `done` callbacks may run on any thread.
struct TxnHooks {
  // A new producer id (durably reserved).
  std::function<Result<int64_t>()> allocate_producer_id;
  // Appends a commit or abort marker for (producer_id, epoch) to every
  // partition; `done` once all are durable (partitions of deleted topics
  // count as written) or with the first error.
  std::function<void(int64_t producer_id, int16_t epoch, bool commit, std::vector<TopicPartition> partitions,
                     std::function<void(Status)> done)>
      write_markers;
  // Commits staged offsets to their groups; `done` once durable.
  std::function<void(std::vector<PendingOffset> offsets, std::function<void(Status)> done)> commit_offsets;
};

class TxnClock {
 public:
  virtual ~TxnClock() = default;
  virtual int64_t wall_ms() = 0;
};

class SystemTxnClock final : public TxnClock {
 public:
  int64_t wall_ms() override { return wall_clock_ms(); }
};

}  // namespace carelog::txn
