#include "partition/wal_log_manager.h"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/clock.h"
#include "common/log.h"

namespace carelog::partition {

namespace {

using Group = std::vector<std::pair<std::shared_ptr<WalPartitionLog>, std::vector<IndexEntry>>>;

uint64_t group_bytes(const std::vector<IndexEntry>& entries) {
  uint64_t n = 0;
  for (const auto& e : entries) n += e.bytes();
  return n;
}

}  // namespace

WalLogManager::WalLogManager(const LogConfig& config, metadata::MetadataStore& store)
    : config_(config), store_(store), cache_(std::make_shared<BatchCache>(config.cache_bytes)) {}

WalLogManager::~WalLogManager() { shutdown(); }

std::shared_ptr<WalPartitionLog> WalLogManager::make_partition(const Uuid& topic_id, int32_t partition,
                                                               int32_t leader_epoch, bool attach_wal) {
  auto p = std::make_shared<WalPartitionLog>(topic_id, partition, next_uid_++, cache_, store_, leader_epoch);
  if (wal_ && attach_wal) p->attach(wal_);
  if (blocks_) p->attach_objects(ObjectTier{blocks_.get(), pool_.get()});
  return p;
}

std::shared_ptr<const ObjectRef> WalLogManager::object_ref(const std::string& key, uint64_t size) {
  auto ref = std::make_shared<ObjectRef>();
  ref->key = key;
  ref->size = size;
  return ref;
}

Status WalLogManager::recover_objects(PartitionMap& parts) {
  auto objects = store_.list_objects();
  if (!objects.ok()) return objects.take_error();
  std::map<std::string, std::shared_ptr<const ObjectRef>> refs;
  for (const auto& o : *objects) {
    if (o.state == metadata::ObjectState::kCommitted)
      refs[o.key] = object_ref(o.key, static_cast<uint64_t>(o.size));
  }
  auto starts = store_.log_start_offsets();
  if (!starts.ok()) return starts.take_error();
  auto uploaded = store_.uploaded_offsets();
  if (!uploaded.ok()) return uploaded.take_error();
  size_t ranges = 0;
  for (auto& [key, p] : parts) {
    metadata::PartitionKey pk{key.first, key.second};
    int64_t from = 0;
    if (auto it = starts->find(pk); it != starts->end()) from = it->second;
    for (;;) {
      constexpr int32_t kPage = 1000;
      auto page = store_.find_ranges(pk, from, kPage);
      if (!page.ok()) return page.take_error();
      for (const auto& r : *page) {
        auto ref = refs.find(r.object_key);
        if (ref == refs.end()) return make_error("object index names unknown object " + r.object_key);
        p->recover_object_range(r, ref->second);
        from = r.last_offset + 1;
        ranges++;
      }
      if (page->size() < static_cast<size_t>(kPage)) break;
    }
    if (auto it = uploaded->find(pk); it != uploaded->end()) p->recover_uploaded(it->second);
  }
  log::info("log manager: {} object ranges in {} objects indexed", ranges, refs.size());
  return recover_producers(parts);
}

Status WalLogManager::recover_producers(PartitionMap& parts) {
  auto snapshots = store_.producer_snapshots();
  if (!snapshots.ok()) return snapshots.take_error();
  // Snapshot first; then only the uploaded batches after it are replayed.
  struct Job {
    WalPartitionLog* partition;
    IndexEntry range;
    Result<std::vector<record::BatchHeader>> headers = make_error("not read");
  };
  std::vector<Job> jobs;
  size_t from_snapshot = 0;
  for (auto& [key, p] : parts) {
    if (auto it = snapshots->find(metadata::PartitionKey{key.first, key.second}); it != snapshots->end()) {
      auto state = ProducerStateTable::decode(it->second.state);
      if (state.ok()) {
        p->recover_producer_snapshot(it->second.snapshot_offset, std::move(state).value());
        from_snapshot++;
      } else {
        log::warn("partition {}-{}: producer snapshot at offset {} unusable ({}); replaying objects instead",
                  key.first.to_string(), key.second, it->second.snapshot_offset, state.error().message);
      }
    }
    for (auto& range : p->producer_replay_ranges()) jobs.push_back(Job{p.get(), std::move(range)});
  }
  // Object reads in parallel (bounded): on S3 each costs a round trip.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();)
      jobs[i].headers = jobs[i].partition->read_range_headers(jobs[i].range);
  };
  std::vector<std::thread> readers;
  const size_t threads = std::min<size_t>(std::max(config_.recovery_read_threads, 1u), jobs.size());
  for (size_t i = 1; i < threads; ++i) readers.emplace_back(work);
  if (!jobs.empty()) work();
  for (auto& t : readers) t.join();
  for (const auto& j : jobs) {  // per partition in offset order
    if (j.headers.ok()) {
      j.partition->recover_uploaded_producers(*j.headers);
    } else {
      log::warn("partition {}-{}: producer state from {} unavailable: {}",
                j.partition->topic_id().to_string(), j.partition->partition(), j.range.object->key,
                j.headers.error().message);
    }
  }
  log::info("log manager: producer state of {} partitions from snapshots, {} object ranges replayed",
            from_snapshot, jobs.size());
  return Status::OK();
}

// wal.type: local segment files or WAL objects in the object store.
static Result<std::shared_ptr<storage::WriteAheadLog>> open_wal(
    const LogConfig& config, storage::FileSystem& fs, const storage::WriteAheadLog::RecoveryFn& on_record) {
  if (config.wal_type == storage::WalType::kObject) {
    if (!config.object_store) return make_error("wal.type=object needs an object store");
    auto w = storage::ObjectWal::open(*config.object_store, config.object_wal, on_record);
    if (!w.ok()) return w.take_error();
    return std::shared_ptr<storage::WriteAheadLog>(std::move(w).value());
  }
  auto w = storage::Wal::open(fs, config.wal, on_record);
  if (!w.ok()) return w.take_error();
  return std::shared_ptr<storage::WriteAheadLog>(std::move(w).value());
}

Result<std::unique_ptr<WalLogManager>> WalLogManager::open(const LogConfig& config,
                                                           metadata::MetadataStore& store,
                                                           storage::FileSystem& fs) {
  std::unique_ptr<WalLogManager> m(new WalLogManager(config, store));
  if (config.object_store) {
    storage::BlockCacheOptions bo;
    bo.capacity_bytes = config.block_cache_bytes;
    bo.block_size = storage::block_size_for(bo.capacity_bytes);
    m->blocks_ = std::make_unique<storage::BlockCache>(*config.object_store, bo);
    m->pool_ = std::make_unique<ReadPool>(config.read_threads);
    m->uploader_ =
        std::make_unique<storage::ObjectUploader>(*config.object_store, store, storage::UploaderOptions{});
    m->gc_ = std::make_unique<storage::ObjectGc>(*config.object_store, store);
    storage::CompactionOptions co;
    co.small_object_bytes = config.compaction_small_object_bytes;
    co.target_bytes = config.compaction_target_object_bytes;
    co.grace_ms = config.object_delete_delay_ms;
    co.partition_split_bytes = config.compaction_partition_split_bytes;
    m->compactor_ = std::make_unique<storage::Compactor>(*config.object_store, store, *m->gc_, co);
    storage::CleanerOptions clo;
    clo.key_map_bytes = config.cleaner_key_map_bytes;
    clo.output_object_bytes = config.compaction_target_object_bytes;
    clo.grace_ms = config.object_delete_delay_ms;
    m->cleaner_ = std::make_unique<storage::Cleaner>(*config.object_store, store, *m->gc_, clo);
  }
  auto topics = store.list_topics();
  if (!topics.ok()) return topics.take_error();
  for (const auto& t : *topics) {
    if (config.cluster) break;  // partitions come with leadership (adopt)
    for (int32_t p = 0; p < t.partitions; ++p)
      m->partitions_[Key{t.id, p}] = m->make_partition(t.id, p, config.leader_epoch, false);
  }
  const auto started = std::chrono::steady_clock::now();
  if (config.object_store) CARELOG_RETURN_IF_ERROR(m->recover_objects(m->partitions_));

  uint64_t recovered = 0, already_uploaded = 0;
  auto on_record = [&](const storage::WalRecord& r) {
    auto it = m->partitions_.find(Key{r.topic_id, r.partition});
    if (it == m->partitions_.end()) {
      m->skipped_records_++;  // deleted topic (or partition never created)
      return;
    }
    auto h = record::parse_header(r.batch.span());
    if (!h.ok() || h->base_offset != r.base_offset) {
      log::warn("wal: skipping undecodable batch of {}-{} at offset {}", r.topic_id.to_string(), r.partition,
                r.base_offset);
      m->skipped_records_++;
      return;
    }
    if (h->base_offset <= it->second->uploaded_offset()) {
      it->second->recover_uploaded_batch(*h);  // its data is in an object already
      already_uploaded++;
      return;
    }
    it->second->recover_batch(*h, r.location);
    recovered++;
  };
  auto wal = open_wal(config, fs, on_record);
  if (!wal.ok()) return wal.take_error();
  m->wal_ = std::move(wal).value();

  auto starts = store.log_start_offsets();
  if (!starts.ok()) return starts.take_error();
  for (const auto& [key, offset] : *starts) {
    auto it = m->partitions_.find(Key{key.topic_id, key.partition});
    if (it != m->partitions_.end()) it->second->recover_log_start(offset);
  }
  for (auto& [key, p] : m->partitions_) p->attach(m->wal_);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  log::info(
      "log manager: recovered {} WAL batches into {} partitions in {} ms ({} already uploaded, {} WAL "
      "records "
      "skipped)",
      recovered, m->partitions_.size(), ms.count(), already_uploaded, m->skipped_records_);
  return m;
}

void WalLogManager::start_background() {
  if (!uploader_) return;
  std::lock_guard lk(bg_mu_);
  if (upload_thread_.joinable() || bg_stop_) return;
  upload_thread_ = std::thread([this] { upload_loop(); });
  maintenance_thread_ = std::thread([this] { maintenance_loop(); });
}

std::vector<std::shared_ptr<WalPartitionLog>> WalLogManager::snapshot() {
  std::shared_lock lk(mu_);
  std::vector<std::shared_ptr<WalPartitionLog>> out;
  out.reserve(partitions_.size());
  for (auto& [k, p] : partitions_) out.push_back(p);
  return out;
}

Status WalLogManager::upload_group(storage::ObjectUploader& uploader, const Group& group) {
  std::vector<storage::UploadBatch> batches;
  // (partition index in group, base offset) per batch, for mark_uploaded.
  std::vector<std::pair<size_t, int64_t>> owners;
  std::vector<int64_t> last(group.size(), -1);
  std::vector<std::vector<record::BatchHeader>> headers(group.size());
  for (size_t g = 0; g < group.size(); ++g) {
    const auto& [p, entries] = group[g];
    for (const auto& e : entries) {
      auto bytes = p->read_for_upload(e);
      if (!bytes.ok()) {
        // Gone (log start moved past it meanwhile): upload what precedes.
        log::warn("uploader: cannot read {}-{} offset {}: {}", p->topic_id().to_string(), p->partition(),
                  e.base_offset, bytes.error().message);
        break;
      }
      auto h = record::parse_header(bytes->span());
      if (!h.ok() || h->base_offset != e.base_offset) {
        log::error("uploader: {}-{} offset {}: batch does not match its index entry",
                   p->topic_id().to_string(), p->partition(), e.base_offset);
        break;
      }
      headers[g].push_back(*h);
      storage::UploadBatch b;
      b.topic_id = p->topic_id();
      b.partition = p->partition();
      b.base_offset = e.base_offset;
      b.last_offset = e.last_offset;
      b.max_timestamp = e.max_timestamp;
      b.bytes = std::move(bytes).value();
      b.leader_epoch = config_.cluster ? p->leader_epoch() : -1;
      batches.push_back(std::move(b));
      owners.emplace_back(g, e.base_offset);
      last[g] = e.last_offset;
    }
  }
  if (batches.empty()) return Status::OK();
  // Producer snapshots as of exactly the uploaded offsets, committed with
  // the object.
  const int64_t now = wall_clock_ms();
  // Under switch_mu_ from computing the snapshots to installing them, so the
  // cleaner's forget_aborted (also under it) is never undone by a snapshot
  // computed before it.
  std::lock_guard sw(switch_mu_);
  std::vector<ProducerStateTable> states(group.size());
  std::vector<metadata::ProducerSnapshot> snapshots;
  for (size_t g = 0; g < group.size(); ++g) {
    if (last[g] < 0) continue;
    const auto& p = group[g].first;
    states[g] = p->uploaded_producers_after(headers[g], now, config_.producer_id_expiration_ms);
    snapshots.push_back(metadata::ProducerSnapshot{metadata::PartitionKey{p->topic_id(), p->partition()},
                                                   last[g], states[g].encode()});
  }
  auto up = uploader.upload(batches, snapshots);
  if (!up.ok()) {
    std::lock_guard lk(stats_mu_);
    stats_.failures++;
    return up.error();
  }
  auto ref = object_ref(up->key, up->size);
  std::vector<std::vector<std::pair<int64_t, uint64_t>>> positions(group.size());
  for (size_t i = 0; i < owners.size(); ++i)
    positions[owners[i].first].emplace_back(owners[i].second, up->positions[i]);
  for (size_t g = 0; g < group.size(); ++g) {
    if (last[g] < 0) continue;
    group[g].first->mark_uploaded(positions[g], ref, last[g]);
    group[g].first->set_uploaded_producers(std::move(states[g]), now, config_.producer_id_expiration_ms);
  }
  std::lock_guard lk(stats_mu_);
  stats_.objects++;
  stats_.bytes += up->size;
  return Status::OK();
}

Status WalLogManager::reclaim_wal() {
  // Horizon first, floor second (see reclaim_horizon()).
  uint64_t floor = wal_->reclaim_horizon(wal_->space_pressure());
  for (auto& p : snapshot()) floor = std::min(floor, p->wal_floor());
  return wal_->reclaim_before(floor);
}

UploadStats WalLogManager::upload_stats() {
  std::lock_guard lk(stats_mu_);
  return stats_;
}

Result<size_t> WalLogManager::upload_once(bool drain) {
  if (!uploader_) return size_t{0};
  return upload_pass(*uploader_, drain);
}

Result<size_t> WalLogManager::upload_pass(storage::ObjectUploader& uploader, bool drain) {
  std::lock_guard serial(upload_mu_);
  const uint64_t target = std::max<uint64_t>(config_.upload_object_bytes, 1);
  size_t objects = 0;
  for (;;) {
    bool any = false;
    Group shared;
    uint64_t shared_bytes = 0;
    for (auto& p : snapshot()) {
      if (p->dropped()) continue;
      const uint64_t pending = p->pending_upload_bytes();
      if (pending == 0) continue;
      if (pending >= target / 2) {
        // Big enough for an object of its own (reads of it then touch no
        // other partition's bytes).
        auto entries = p->pending_upload(target);
        if (entries.empty()) continue;
        CARELOG_RETURN_IF_ERROR(upload_group(uploader, Group{{p, std::move(entries)}}));
        objects++;
        any = true;
        continue;
      }
      if (shared_bytes >= target) continue;  // next pass
      auto entries = p->pending_upload(target - shared_bytes);
      if (entries.empty()) continue;
      shared_bytes += group_bytes(entries);
      shared.emplace_back(p, std::move(entries));
    }
    if (!shared.empty()) {
      CARELOG_RETURN_IF_ERROR(upload_group(uploader, shared));
      objects++;
      any = true;
    }
    Status reclaimed = reclaim_wal();
    if (!reclaimed.ok()) log::warn("uploader: reclaiming WAL space failed: {}", reclaimed.error().message);
    if (!any || !drain) break;
  }
  return objects;
}

uint64_t WalLogManager::pending_bytes() {
  uint64_t n = 0;
  for (auto& p : snapshot()) n += p->pending_upload_bytes();
  return n;
}

void WalLogManager::upload_loop() {
  using clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(config_.upload_interval_ms, 1));
  auto next = clock::now() + interval;
  // After a failed pass, WAL pressure alone does not start another one
  // before the interval: the store is likely down, and hammering it would
  // not free space any sooner.
  auto pressure_after = clock::now();
  for (;;) {
    {
      std::unique_lock lk(bg_mu_);
      // Poll the triggers often; they are cheap.
      bg_cv_.wait_for(lk, std::min<std::chrono::milliseconds>(interval, std::chrono::milliseconds(20)),
                      [&] { return bg_stop_; });
      if (bg_stop_) return;
    }
    const auto now = clock::now();
    // A small WAL fills long before upload.object.bytes are pending: upload
    // what there is as soon as space runs short, or producers would wait
    // for the interval (one WAL's worth per interval).
    const bool due = now >= next || pending_bytes() >= config_.upload_object_bytes ||
                     (now >= pressure_after && wal_->space_pressure());
    if (!due) continue;
    next = now + interval;
    auto r = upload_once(false);
    if (!r.ok()) {
      bool stopping;
      {
        std::lock_guard lk(bg_mu_);
        stopping = bg_stop_;
      }
      // A pass cut short by shutdown is not a failure (close() drains).
      if (stopping) {
        log::debug("uploader: pass stopped by shutdown: {}", r.error().message);
      } else {
        log::warn("uploader: pass failed: {}", r.error().message);
      }
      pressure_after = next;
    }
  }
}

void WalLogManager::maintenance_loop() {
  using clock = std::chrono::steady_clock;
  auto every = [](int64_t ms) { return std::chrono::milliseconds(std::max<int64_t>(ms, 10)); };
  const int64_t gc_ms = std::min<int64_t>(config_.object_delete_delay_ms, 10000);
  const int64_t sweep_ms = std::max<int64_t>(config_.orphan_min_age_ms, 1000);
  auto next_retention = clock::now() + every(config_.retention_check_interval_ms);
  auto next_compaction = clock::now() + every(config_.compaction_interval_ms);
  auto next_clean = clock::now() + every(config_.cleaner_backoff_ms);
  auto next_gc = clock::now() + every(gc_ms);
  auto next_sweep = clock::now() + every(sweep_ms);
  for (;;) {
    {
      std::unique_lock lk(bg_mu_);
      bg_cv_.wait_for(lk, std::chrono::milliseconds(100), [&] { return bg_stop_; });
      if (bg_stop_) return;
    }
    const auto now = clock::now();
    if (now >= next_retention) {
      next_retention = now + every(config_.retention_check_interval_ms);
      if (auto st = apply_retention(); !st.ok()) log::warn("retention: {}", st.error().message);
    }
    if (config_.compaction_interval_ms > 0 && now >= next_compaction) {
      next_compaction = now + every(config_.compaction_interval_ms);
      auto r = compact_once();
      if (!r.ok()) log::warn("compaction: {}", r.error().message);
    }
    if (config_.cleanup && now >= next_clean) {
      next_clean = now + every(config_.cleaner_backoff_ms);
      auto r = clean_once();
      if (!r.ok()) log::warn("log compaction: {}", r.error().message);
    }
    if (now >= next_gc) {
      next_gc = now + every(gc_ms);
      if (auto st = collect_garbage(); !st.ok()) log::warn("object gc: {}", st.error().message);
    }
    if (now >= next_sweep) {
      next_sweep = now + every(sweep_ms);
      auto r = sweep_orphans();
      if (!r.ok()) log::warn("orphan sweep: {}", r.error().message);
    }
  }
}

Status WalLogManager::apply_retention() {
  if (!config_.retention) return Status::OK();
  auto topics = store_.list_topics();
  if (!topics.ok()) return topics.take_error();
  const int64_t now = wall_clock_ms();
  for (const auto& t : *topics) {
    auto [ms, bytes] = config_.retention(t);
    if (ms < 0 && bytes < 0) continue;
    for (int32_t i = 0; i < t.partitions; ++i) {
      std::shared_ptr<WalPartitionLog> p;
      {
        std::shared_lock lk(mu_);
        auto it = partitions_.find(Key{t.id, i});
        if (it != partitions_.end()) p = it->second;
      }
      if (!p) continue;
      auto target = p->retention_target(now, ms, bytes);
      if (!target) continue;
      int64_t start = -1;
      LogError err = p->advance_log_start(*target, &start);
      if (err != LogError::kNone) {
        log::warn("retention: {} partition {}: advancing log start to {} failed ({})", t.name, i, *target,
                  static_cast<int>(err));
      } else {
        log::info("retention: {} partition {}: log start -> {}", t.name, i, start);
      }
    }
  }
  return Status::OK();
}

bool WalLogManager::range_live(const storage::object_format::IndexEntry& e) {
  std::shared_lock lk(mu_);
  auto it = partitions_.find(Key{e.topic_id, e.partition});
  if (it == partitions_.end()) return false;  // topic deleted
  return e.last_offset >= it->second->log_start_offset();
}

Status WalLogManager::collect_garbage() {
  if (!gc_) return Status::OK();
  const int64_t now = wall_clock_ms();
  // Cluster mode: most partitions are led elsewhere; their liveness comes
  // from the store (the topic exists, the range is above the log start).
  std::map<Uuid, int32_t> counts;
  std::map<metadata::PartitionKey, int64_t> starts;
  if (config_.cluster) {
    auto topics = store_.list_topics();
    if (!topics.ok()) return topics.error();
    for (const auto& t : *topics) counts[t.id] = t.partitions;
    auto s = store_.log_start_offsets();
    if (!s.ok()) return s.error();
    starts = std::move(*s);
  }
  auto live = [&](const storage::object_format::IndexEntry& e) {
    if (!config_.cluster) return range_live(e);
    auto c = counts.find(e.topic_id);
    if (c == counts.end() || e.partition >= c->second) return false;
    auto st = starts.find(metadata::PartitionKey{e.topic_id, e.partition});
    return st == starts.end() || e.last_offset >= st->second;
  };
  auto retired = gc_->retire_dead_objects(live, now, config_.object_delete_delay_ms);
  if (!retired.ok()) return retired.error();
  auto deleted = gc_->delete_expired(now, [this](const std::string& key) { blocks_->invalidate(key); });
  if (!deleted.ok()) return deleted.error();
  return Status::OK();
}

Result<bool> WalLogManager::compact_once() {
  // Cluster mode: other brokers index the objects it would replace.
  if (!compactor_ || config_.cluster) return false;
  // Holding switch_mu_ across the whole run keeps uploads from committing
  // an object that this run would list before its batches are repointed.
  std::lock_guard sw(switch_mu_);
  auto r = compactor_->run_once([this](const auto& e) { return range_live(e); }, wall_clock_ms());
  if (!r.ok()) return r.take_error();
  if (!*r) return false;
  const auto& res = **r;
  for (const auto& out : res.outputs) {
    auto ref = object_ref(out.key, out.size);
    for (const auto& range : out.ranges) {
      std::shared_ptr<WalPartitionLog> p;
      {
        std::shared_lock lk(mu_);
        auto it = partitions_.find(Key{range.topic_id, range.partition});
        if (it != partitions_.end()) p = it->second;
      }
      if (p) p->relocate(range, ref);
    }
  }
  return true;
}

Result<size_t> WalLogManager::sweep_orphans() {
  if (!gc_) return size_t{0};
  return gc_->sweep_orphans(wall_clock_ms(), config_.orphan_min_age_ms);
}

std::shared_ptr<PartitionLog> WalLogManager::get(const Uuid& topic_id, int32_t partition) {
  std::shared_lock lk(mu_);
  auto it = partitions_.find(Key{topic_id, partition});
  return it == partitions_.end() ? nullptr : it->second;
}

Status WalLogManager::ensure_partitions(const Uuid& topic_id, int32_t count) {
  if (count < 0) return make_error(fmt::format("invalid partition count {}", count), 37);
  if (config_.cluster) return Status::OK();  // the leader adopts them
  std::unique_lock lk(mu_);
  for (int32_t p = 0; p < count; ++p) {
    auto& slot = partitions_[Key{topic_id, p}];
    if (!slot) slot = make_partition(topic_id, p, config_.leader_epoch, true);
  }
  return Status::OK();
}

void WalLogManager::drop_topic(const Uuid& topic_id) {
  std::unique_lock lk(mu_);
  auto it = partitions_.lower_bound(Key{topic_id, INT32_MIN});
  while (it != partitions_.end() && it->first.first == topic_id) {
    it->second->mark_dropped();
    it = partitions_.erase(it);
  }
}

void WalLogManager::shutdown() {
  {
    std::lock_guard lk(bg_mu_);
    if (shut_down_) return;
    shut_down_ = true;
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (uploader_) uploader_->stop();  // abort backoff waits of a pass in flight
  if (upload_thread_.joinable()) upload_thread_.join();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
  if (!wal_) return;
  // Everything appended is made durable and indexed first.
  wal_->close();
  if (config_.object_store) {
    // Upload everything; then the WAL holds nothing of value: empty it.
    storage::UploaderOptions opts;
    opts.max_attempts = 5;
    storage::ObjectUploader final_uploader(*config_.object_store, store_, opts);
    auto r = upload_pass(final_uploader, /*drain=*/true);
    if (!r.ok()) {
      log::error("shutdown: final upload failed, the WAL keeps the data: {}", r.error().message);
    } else if (pending_bytes() == 0) {
      Status st = wal_->reclaim_before(UINT64_MAX);
      if (!st.ok()) log::warn("shutdown: emptying the WAL failed: {}", st.error().message);
      log::info("shutdown: everything uploaded ({} objects in the final pass), WAL emptied", *r);
    }
  }
  if (pool_) pool_->stop();
}

}  // namespace carelog::partition
