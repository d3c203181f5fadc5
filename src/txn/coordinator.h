// TxnCoordinator: Kafka's transaction coordinator for the transactional ids
// this broker coordinates (FindCoordinator key type 1; one broker
// coordinates all of them today, as for groups; cluster mode maps an id to
// its coordinator the same way it maps a group).
//
// State per transactional id (TxnMetadata) follows Kafka's machine:
// Empty -> Ongoing (AddPartitionsToTxn / AddOffsetsToTxn) -> PrepareCommit |
// PrepareAbort (EndTxn, timeout, fencing) -> CompleteCommit | CompleteAbort
// -> Ongoing ... Every transition is written to the MetadataStore
// (put_transaction) before it is acted on or answered, so a crash in any
// phase resumes: Prepare* states found at start-up are completed (markers
// written again, staged offsets committed), Ongoing ones time out and abort.
//
// Completion (Prepare* -> Complete*) is asynchronous: the hooks append the
// markers to every partition (and commit staged offsets); their callbacks
// post the final transition to the coordinator's worker thread, which also
// runs tick() (timeouts, retries of failed completions). EndTxn is answered
// when the transaction is complete, so a client's next transaction never
// meets CONCURRENT_TRANSACTIONS from its own previous one.
//
// Errors are Kafka's coordinator errors for the newest request versions;
// handlers map PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for old versions.
//
// Threading: every public method is thread-safe (one mutex; metadata writes
// happen under it: they are short SQLite transactions). Callbacks never run
// with the lock held.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metadata/metadata_store.h"
#include "txn/types.h"

namespace carelog::txn {

struct InitResult {
  int16_t error = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

struct EndResult {
  int16_t error = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

class TxnCoordinator {
 public:
  // `store` and `clock` must outlive the coordinator.
  TxnCoordinator(TxnConfig config, metadata::MetadataStore& store, TxnHooks hooks, TxnClock& clock);
  ~TxnCoordinator();
  TxnCoordinator(const TxnCoordinator&) = delete;
  TxnCoordinator& operator=(const TxnCoordinator&) = delete;

  // Reads every transactional id's state from the store. Call once, before
  // requests and after the partitions are recovered.
  Status load();
  // Starts the worker thread; it completes Prepare* transactions left by a
  // crash at once. Tests may skip it and call tick() / run_pending().
  void start();
  // Stops the worker; later requests get COORDINATOR_NOT_AVAILABLE.
  void shutdown();
  // Aborts timed-out transactions and retries unfinished completions.
  void tick();
  // Runs queued completion work on the calling thread (tests without start()).
  void run_pending();

  // InitProducerId with a transactional id. `expected_*` are the v3+
  // fields (-1 when absent).
  void init_producer_id(const std::string& id, int32_t timeout_ms, int64_t expected_producer_id,
                        int16_t expected_epoch, std::function<void(InitResult)> done);
  // AddPartitionsToTxn from a client (v0-3) or a broker (v4+ without
  // verify_only): one error for all partitions.
  int16_t add_partitions(const std::string& id, int64_t producer_id, int16_t epoch,
                         const std::vector<TopicPartition>& partitions);
  // KIP-890 part 1: is `partition` in the producer's ongoing transaction?
  // 0, INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH or
  // INVALID_PRODUCER_ID_MAPPING.
  int16_t verify_partition(const std::string& id, int64_t producer_id, int16_t epoch,
                           const TopicPartition& partition);
  int16_t add_offsets(const std::string& id, int64_t producer_id, int16_t epoch, const std::string& group);
  // Stages offsets of `group` (TxnOffsetCommit); one error for all.
  int16_t stage_offsets(const std::string& id, int64_t producer_id, int16_t epoch, const std::string& group,
                        const std::vector<PendingOffset>& offsets);
  // EndTxn. `bump_epoch`: transaction version 2 (EndTxn v5), the epoch
  // grows by one and the response carries the new id/epoch.
  void end_txn(const std::string& id, int64_t producer_id, int16_t epoch, bool commit, bool bump_epoch,
               std::function<void(EndResult)> done);

  std::optional<TxnMetadata> describe(const std::string& id);
  std::vector<TxnMetadata> list();
  // Offsets of (group, topic, partition) staged by an unfinished
  // transaction (OffsetFetch require_stable answers UNSTABLE_OFFSET_COMMIT).
  bool has_pending_offsets(const std::string& group, const std::string& topic, int32_t partition);

  const TxnConfig& config() const { return config_; }

 private:
  using Completions = std::vector<std::function<void()>>;

  Status persist_locked(const TxnMetadata& m);
  // AddPartitionsToTxn / AddOffsetsToTxn: checks the producer, then (unless
  // `included` already holds in an Ongoing transaction) applies `add`, makes
  // the transaction Ongoing and persists it.
  int16_t extend_locked(const std::string& id, int64_t producer_id, int16_t epoch,
                        const std::function<bool(const TxnMetadata&)>& included,
                        const std::function<void(TxnMetadata&)>& add);
  // Moves an Ongoing (or fenced) transaction to Prepare{Commit,Abort},
  // durably; completion is queued. Returns an error code when the write failed.
  int16_t prepare_end_locked(TxnMetadata& m, bool commit);
  void begin_completion_locked(const std::string& id);
  // Deletes idle transactional ids older than transactional.id.expiration.ms.
  void expire_ids_locked(int64_t now);
  void complete(const std::string& id);
  void on_completed(const std::string& id, Status st);
  void post(std::function<void()> fn);
  void worker();
  static void run(Completions& out);

  const TxnConfig config_;
  metadata::MetadataStore& store_;
  TxnHooks hooks_;
  TxnClock& clock_;

  std::mutex mu_;
  std::map<std::string, TxnMetadata> txns_;
  // Transactions whose completion is in progress, and the EndTxn answers
  // waiting for it.
  std::map<std::string, std::vector<std::function<void(EndResult)>>> completing_;
  bool shut_down_ = false;

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> work_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace carelog::txn
