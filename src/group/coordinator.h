// GroupCoordinator: Kafka's classic consumer-group protocol and committed
// offsets for the groups this broker coordinates (all of them: Carelog runs
// one coordinator per broker).
//
// Membership (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) follows Kafka's
// classic group state machine: Empty -> PreparingRebalance ->
// CompletingRebalance -> Stable, with static membership (KIP-345), the
// KIP-394 member-id handshake and the initial rebalance delay. The broker
// relays protocol metadata and assignments opaquely; assignors run in the
// clients. Membership lives in memory only: after a restart members rejoin.
//
// Committed offsets are cached in memory and made durable through the
// MetadataStore by an OffsetWriter (group commit); an OffsetCommit's
// callback runs only after its transaction committed.
//
// Asynchrony: JoinGroup and SyncGroup may have to wait for other members;
// they take a callback that runs exactly once, later, from whichever thread
// completes them (a request, the timer thread or the offset writer). No
// thread ever blocks waiting. Callbacks never run while the coordinator's
// lock is held, so they may call back into the coordinator.
//
// Time: all deadlines (session timeouts, rebalance timeouts, the initial
// delay, offset retention) are checked by tick(). start_timer() runs a thread
// that sleeps until the earliest deadline (at most 1 s; JoinGroup, SyncGroup
// and LeaveGroup wake it when they set an earlier one) and then calls tick(),
// so members expire at their deadline, as in Kafka, not on a coarse tick.
// DescribeGroups, ListGroups and DeleteGroups also apply every passed
// deadline before they answer. Unit tests skip start_timer(), use a fake
// Clock and call tick() themselves.
//
// Threading: every public method is thread-safe (one mutex guards all
// groups; group operations are short and never do I/O under it).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "group/clock.h"
#include "group/group_state.h"
#include "group/offset_writer.h"
#include "group/types.h"
#include "metadata/metadata_store.h"

namespace carelog::group {

class GroupCoordinator {
 public:
  // `store`, `clock` must outlive the coordinator; `topics` is called under
  // the coordinator's lock and must not call back into it.
  GroupCoordinator(GroupConfig config, metadata::MetadataStore& store, TopicLookup topics, Clock& clock);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Loads committed offsets from the store (groups with offsets reappear as
  // Empty groups) and starts the offset writer. Call once, before requests.
  // `all_groups` false (cluster mode) loads none: load_groups() then loads
  // the groups this broker coordinates.
  Status load(bool all_groups = true);

  // Cluster mode, when this broker becomes the coordinator of the groups
  // `owned` selects: adds their committed offsets as the store has them
  // (the groups must be unloaded first).
  using GroupFilter = std::function<bool(const std::string& group_id)>;
  Status load_groups(const GroupFilter& owned);
  // Cluster mode, when another broker coordinates them now: forgets the
  // groups `owned` selects; their waiting JoinGroup/SyncGroup requests get
  // NOT_COORDINATOR.
  void unload_groups(const GroupFilter& owned);
  // Receives every committed-offset change after the store applied it, in
  // store order, on the offset writer's thread, without the coordinator's
  // lock (the server mirrors them into __consumer_offsets). `committed` gets
  // the records written; `deleted` the keys (group, topic, partition) whose
  // offsets were removed (OffsetDelete, DeleteGroups, expiry). Set before
  // load(); either may be empty.
  struct OffsetObserver {
    std::function<void(const std::vector<metadata::CommittedOffsetRecord>&)> committed;
    std::function<void(const std::vector<metadata::CommittedOffsetRecord>&)> deleted;
  };
  void set_offset_observer(OffsetObserver observer) { observer_ = std::move(observer); }

  // Starts the timer thread (production). Tests call tick() instead.
  void start_timer();
  // Answers every waiting JoinGroup/SyncGroup with COORDINATOR_NOT_AVAILABLE,
  // drains pending offset writes and stops the threads. Later requests get
  // COORDINATOR_NOT_AVAILABLE. Idempotent.
  void shutdown();
  // Enforces every deadline that has passed on the clock.
  void tick();

  const GroupConfig& config() const { return config_; }

  void join_group(JoinRequest req, JoinCallback done);
  void sync_group(SyncRequest req, SyncCallback done);
  int16_t heartbeat(const HeartbeatRequest& req);
  LeaveResult leave_group(const std::string& group_id, const std::vector<LeavingMember>& members);

  void commit_offsets(CommitRequest req, CommitCallback done);
  // Offsets a transaction staged (TxnOffsetCommit), committed with it: no
  // membership checks (the group may have rebalanced since). `done` gets one
  // error per offset, after the write is durable.
  void commit_transactional_offsets(const std::string& group_id, std::vector<OffsetCommitEntry> offsets,
                                    CommitCallback done);
  // TxnOffsetCommit's membership check, made when the offsets are staged
  // (Kafka's rules): a generation, member id or instance id, if given, must
  // name a current member of this generation (UNKNOWN_MEMBER_ID,
  // FENCED_INSTANCE_ID, ILLEGAL_GENERATION); without them (v0-2, or a
  // producer given only the group id) the commit is accepted; an absent
  // group accepts only generation -1. Unlike OffsetCommit, a group
  // completing a rebalance accepts it. 0 when accepted.
  int16_t validate_transactional_commit(const std::string& group_id, int32_t generation_id,
                                        const std::string& member_id,
                                        const std::optional<std::string>& group_instance_id);
  // `partitions` nullopt = every committed offset of the group.
  FetchResult fetch_offsets(const std::string& group_id,
                            const std::optional<std::vector<PartitionRef>>& partitions);

  // `states` empty = all groups; names as Kafka spells them (case-insensitive).
  std::vector<GroupListing> list_groups(const std::vector<std::string>& states);
  GroupDescription describe_group(const std::string& group_id);
  void delete_groups(std::vector<std::string> group_ids, DeleteGroupsCallback done);
  void delete_offsets(const std::string& group_id, std::vector<PartitionRef> partitions,
                      OffsetDeleteCallback done);

  // Store transactions written so far (tests check group commit with it).
  uint64_t offset_transactions() const { return writer_.transactions(); }

 private:
  // Work to run after the lock is released (callbacks into handlers).
  using Completions = std::vector<std::function<void()>>;

  Group* find(const std::string& group_id);
  Group& get_or_create(const std::string& group_id);
  std::string new_member_id(const std::string& client_id);

  // Membership internals; all require mu_ held.
  void join_new_member(Group& g, JoinRequest& req, JoinCallback& done, Completions& out);
  void join_static_member(Group& g, JoinRequest& req, const std::string& new_id, JoinCallback& done,
                          Completions& out);
  void join_known_member(Group& g, JoinRequest& req, JoinCallback& done, Completions& out);
  void add_member_and_rebalance(Group& g, JoinRequest& req, const std::string& member_id, JoinCallback& done,
                                Completions& out);
  void update_member_and_rebalance(Group& g, Member& m, JoinRequest& req, JoinCallback& done,
                                   Completions& out);
  void maybe_prepare_rebalance(Group& g, Completions& out);
  void prepare_rebalance(Group& g, Completions& out);
  void try_complete_join(Group& g, Completions& out);
  void complete_join(Group& g, Completions& out);
  void remove_member(Group& g, const std::string& member_id, int16_t error_for_waiters, Completions& out);
  void remove_member_and_update(Group& g, const std::string& member_id, Completions& out);
  void fail_pending_syncs(Group& g, int16_t error, Completions& out);
  void set_state(Group& g, GroupState s);
  JoinResult current_join_result(const Group& g, const std::string& member_id) const;
  void tick_group(Group& g, int64_t now, Completions& out);
  // Earliest deadline of `g` tick_group enforces (max if none); mu_ held.
  int64_t next_deadline(const Group& g) const;
  // Wakes the timer early when `group_id` now has an earlier deadline.
  void reschedule_timer(const std::string& group_id);
  void expire_offsets(Completions& out);

  // Offsets. Every cache change happens in a writer callback, after the
  // store write, in queue order, so the cache always equals the store.
  // apply_* take mu_ (they run on the writer thread).
  void apply_committed(const std::vector<metadata::CommittedOffsetRecord>& recs);
  static metadata::CommittedOffsetRecord make_record(const std::string& group_id, const OffsetCommitEntry& o,
                                                     const Uuid& topic_id, int64_t now);
  // Requires mu_ held: queues the upserts; `done` gets `errors` (with
  // COORDINATOR_NOT_AVAILABLE at `record_index` if the write failed).
  void submit_commit_locked(std::vector<metadata::CommittedOffsetRecord> records,
                            std::vector<size_t> record_index, std::vector<int16_t> errors,
                            CommitCallback done);
  void apply_deleted(const std::vector<metadata::OffsetChange>& changes);
  // Requires mu_ held (keeps queue order = decision order). `done` runs on
  // the writer thread without mu_.
  void submit_deletes(std::vector<metadata::OffsetChange> changes, std::function<void(Status)> done);

  static void run(Completions& out);

  const GroupConfig config_;
  metadata::MetadataStore& store_;
  TopicLookup topics_;
  Clock& clock_;
  OffsetWriter writer_;
  OffsetObserver observer_;

  std::mutex mu_;
  std::map<std::string, Group> groups_;
  bool shut_down_ = false;
  uint64_t member_seq_ = 0;
  int64_t next_expiry_check_ms_ = 0;

  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;
  bool timer_kicked_ = false;              // timer_mu_
  std::atomic<int64_t> timer_wake_ms_{0};  // next tick() (clock ms); written under mu_
  std::thread timer_;
};

}  // namespace carelog::group
