#include "storage/wal.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <future>

#include "common/crc32c.h"
#include "common/log.h"
#include "storage/wal_format.h"

namespace carelog::storage {

Wal::Wal(FileSystem& fs, WalConfig config)
    : fs_(fs), config_(std::move(config)), space_(config_.capacity_bytes, config_.max_wait) {}

Wal::~Wal() { close(); }

uint64_t WriteAheadLog::record_size(size_t batch_bytes) {
  return wal_format::kHeaderSize + wal_format::kPrefixSize + batch_bytes;
}

Status WriteAheadLog::reserve(uint64_t bytes) {
  std::promise<Status> result;
  reserve_async(bytes, [&](const Status& st) { result.set_value(st); });
  return result.get_future().get();
}

std::string Wal::segment_path(uint64_t id) const { return config_.dir + "/" + wal_format::segment_name(id); }

Result<std::unique_ptr<Wal>> Wal::open(FileSystem& fs, WalConfig config, const RecoveryFn& on_record) {
  if (config.segment_bytes == 0 || config.capacity_bytes == 0) {
    return make_error("wal: segment and capacity sizes must be positive");
  }
  std::unique_ptr<Wal> wal(new Wal(fs, std::move(config)));
  CARELOG_RETURN_IF_ERROR(wal->recover(on_record));
  wal->thread_ = std::thread([w = wal.get()] { w->commit_loop(); });
  return wal;
}

Status Wal::recover(const RecoveryFn& on_record) {
  CARELOG_RETURN_IF_ERROR(fs_.create_dirs(config_.dir));
  auto names = fs_.list(config_.dir);
  if (!names.ok()) return names.take_error();
  std::vector<uint64_t> ids;
  for (const auto& name : *names) {
    if (auto id = wal_format::parse_segment_name(name)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint64_t id = ids[i];
    const bool last = i + 1 == ids.size();
    const std::string path = segment_path(id);
    auto file_r = fs_.open(path, false);
    if (!file_r.ok()) return file_r.take_error();
    std::shared_ptr<File> file = std::move(file_r).value();
    auto size = file->size();
    if (!size.ok()) return size.take_error();
    std::vector<uint8_t> buf(*size);
    auto got = file->pread(buf.data(), buf.size(), 0);
    if (!got.ok()) return got.take_error();
    buf.resize(*got);
    SharedBytes data = SharedBytes::from_vector(std::move(buf));

    uint64_t pos = 0;
    while (pos < data.size()) {
      auto rec = wal_format::decode_record(data, pos);
      if (!rec.ok()) {
        if (!last) {
          return make_error(
              fmt::format("wal: corrupt record in {} at position {}: {}", path, pos, rec.error().message));
        }
        log::warn("wal: truncating torn tail of {} at position {} ({} bytes dropped): {}", path, pos,
                  data.size() - pos, rec.error().message);
        CARELOG_RETURN_IF_ERROR(file->truncate(pos));
        CARELOG_RETURN_IF_ERROR(file->datasync());
        break;
      }
      WalRecord r;
      r.topic_id = rec->topic_id;
      r.partition = rec->partition;
      r.base_offset = rec->base_offset;
      r.batch = data.slice(rec->batch_position, rec->batch_length);
      r.location = WalLocation{id, rec->batch_position, static_cast<uint32_t>(rec->batch_length)};
      on_record(r);
      pos = rec->next_position;
    }
    uint64_t kept = std::min<uint64_t>(pos, data.size());
    segments_[id] = file;
    segment_sizes_[id] = kept;
    space_.add_used(kept);
    tail_segment_ = id;
  }
  // Appends always start a fresh segment, so recovered files are never
  // written again.
  need_new_segment_ = true;
  next_segment_ = ids.empty() ? 0 : ids.back() + 1;
  stats_.segments = segments_.size();
  return Status::OK();
}

Error Wal::state_error_locked() const {
  if (poisoned_) return make_error("wal: storage failed earlier; refusing writes", kErrKafkaStorageError);
  return make_error("wal: closed", kErrKafkaStorageError);
}

void Wal::reserve_async(uint64_t bytes, ReserveCallback done) {
  std::unique_lock lk(mu_);
  if (poisoned_ || stopping_) {
    Error e = state_error_locked();
    lk.unlock();
    return done(e);
  }
  lk.unlock();
  space_.reserve_async(bytes, std::move(done));
}

void Wal::release_reservation(uint64_t bytes) { space_.release_reservation(bytes); }

Status Wal::append(const Uuid& topic_id, int32_t partition, int64_t base_offset, const WalBatch& wal_batch,
                   WalCallback done) {
  const std::span<const uint8_t> batch = wal_batch.bytes.span();
  const uint64_t rs = record_size(batch.size());
  // Header and CRC are computed before taking the lock.
  uint8_t head[wal_format::kHeaderSize + wal_format::kPrefixSize];
  wal_format::encode_header(head, topic_id, partition, base_offset, batch, wal_batch.kafka_crc_verified);

  std::unique_lock lk(mu_);
  if (stopped_) return make_error("wal: closed", kErrKafkaStorageError);
  space_.consume(rs);
  if (need_new_segment_ || (tail_size_ > 0 && tail_size_ + rs > config_.segment_bytes)) {
    tail_segment_ = next_segment_++;
    need_new_segment_ = false;
    tail_size_ = 0;
    chunks_.push_back(Chunk{tail_segment_, true, {}, {}});
  } else if (chunks_.empty() || chunks_.back().segment != tail_segment_) {
    chunks_.push_back(Chunk{tail_segment_, false, {}, {}});
  }
  Chunk& chunk = chunks_.back();
  WalLocation loc{tail_segment_, tail_size_ + sizeof(head), static_cast<uint32_t>(batch.size())};
  chunk.staged.insert(chunk.staged.end(), head, head + sizeof(head));
  if (batch.size() < kCopyBelowBytes) {
    chunk.staged.insert(chunk.staged.end(), batch.begin(), batch.end());
  } else {
    chunk.refs.push_back(Chunk::Ref{chunk.staged.size(), wal_batch.bytes});
  }
  tail_size_ += rs;
  segment_sizes_[tail_segment_] += rs;
  stats_.appends++;
  pending_.push_back(Pending{std::move(done), loc});
  lk.unlock();
  work_cv_.notify_one();
  return Status::OK();
}

Status Wal::write_chunk(Chunk& chunk) {
  std::shared_ptr<File> file;
  if (chunk.new_segment) {
    auto f = fs_.open(segment_path(chunk.segment), true);
    if (!f.ok()) return f.take_error();
    file = std::move(f).value();
    // The new file's directory entry must survive a crash.
    CARELOG_RETURN_IF_ERROR(fs_.sync_dir(config_.dir));
    std::lock_guard lk(mu_);
    segments_[chunk.segment] = file;
    stats_.segments = segments_.size();
  } else {
    std::lock_guard lk(mu_);
    auto it = segments_.find(chunk.segment);
    if (it == segments_.end()) return make_error(fmt::format("wal: segment {} vanished", chunk.segment));
    file = it->second;
  }
  std::vector<IoSlice> slices;
  slices.reserve(chunk.refs.size() * 2 + 1);
  size_t staged_at = 0;
  for (const Chunk::Ref& ref : chunk.refs) {
    if (ref.staged_end > staged_at)
      slices.push_back({chunk.staged.data() + staged_at, ref.staged_end - staged_at});
    slices.push_back({ref.batch.data(), ref.batch.size()});
    staged_at = ref.staged_end;
  }
  if (chunk.staged.size() > staged_at) {
    slices.push_back({chunk.staged.data() + staged_at, chunk.staged.size() - staged_at});
  }
  CARELOG_RETURN_IF_ERROR(file->append_gathered(slices));
  {
    std::lock_guard lk(mu_);
    stats_.syncs++;
  }
  return file->datasync();
}

void Wal::commit_loop() {
  for (;;) {
    std::vector<Chunk> chunks;
    std::vector<Pending> pending;
    bool poisoned;
    {
      std::unique_lock lk(mu_);
      work_cv_.wait(lk, [&] { return !pending_.empty() || stopping_; });
      if (pending_.empty() && stopping_) {
        stopped_ = true;
        return;
      }
      chunks.swap(chunks_);
      pending.swap(pending_);
      if (!chunks.empty()) inflight_min_ = chunks.front().segment;
      poisoned = poisoned_;
      stats_.commits++;
    }

    Status st =
        poisoned ? Status(make_error("wal: storage failed earlier", kErrKafkaStorageError)) : Status::OK();
    for (auto& chunk : chunks) {
      if (!st.ok()) break;
      st = write_chunk(chunk);
      if (!st.ok()) {
        log::error("wal: write to segment {} failed, refusing further writes: {}", chunk.segment,
                   st.error().message);
        st = make_error("wal: " + st.error().message, kErrKafkaStorageError);
        {
          std::lock_guard lk(mu_);
          poisoned_ = true;
        }
        space_.refuse(make_error("wal: storage failed earlier; refusing writes", kErrKafkaStorageError));
      }
    }
    for (auto& p : pending) p.done(st, p.location);
    {
      // Only now: until the callbacks have indexed the group, the uploader
      // cannot see these records, so their segments must not be reclaimed.
      std::lock_guard lk(mu_);
      inflight_min_ = UINT64_MAX;
    }
  }
}

Result<SharedBytes> Wal::read(const WalLocation& loc) {
  std::shared_ptr<File> file;
  {
    std::lock_guard lk(mu_);
    auto it = segments_.find(loc.segment);
    if (it == segments_.end()) {
      return make_error(fmt::format("wal: segment {} not present", loc.segment), kErrKafkaStorageError);
    }
    file = it->second;
  }
  std::vector<uint8_t> buf(loc.length);
  auto got = file->pread(buf.data(), buf.size(), loc.position);
  if (!got.ok()) return make_error("wal: " + got.error().message, kErrKafkaStorageError);
  if (*got != buf.size()) {
    return make_error(fmt::format("wal: short read in segment {} at {}", loc.segment, loc.position),
                      kErrKafkaStorageError);
  }
  return SharedBytes::from_vector(std::move(buf));
}

// Never a segment with bytes still being written, nor the tail unless it is
// sealed (appends would otherwise go on into a deleted file).
uint64_t Wal::reclaim_limit_locked(uint64_t segment) const {
  uint64_t limit = std::min({segment, need_new_segment_ ? tail_segment_ + 1 : tail_segment_, inflight_min_});
  for (auto& c : chunks_) limit = std::min(limit, c.segment);
  return limit;
}

uint64_t Wal::reclaim_horizon(bool seal) {
  std::lock_guard lk(mu_);
  const bool idle = chunks_.empty() && inflight_min_ == UINT64_MAX;
  if (seal && idle && tail_size_ > 0) need_new_segment_ = true;
  return reclaim_limit_locked(UINT64_MAX);
}

Status Wal::reclaim_before(uint64_t segment) {
  std::vector<uint64_t> victims;
  {
    std::lock_guard lk(mu_);
    // After close() nothing is written any more, so even the last segment
    // may go (shutdown empties the WAL once everything is uploaded).
    const uint64_t limit = stopped_ ? segment : reclaim_limit_locked(segment);
    for (auto& [id, file] : segments_) {
      if (id < limit) victims.push_back(id);
    }
  }
  for (uint64_t id : victims) {
    CARELOG_RETURN_IF_ERROR(fs_.remove(segment_path(id)));
    uint64_t freed = 0;
    {
      std::lock_guard lk(mu_);
      segments_.erase(id);
      freed = segment_sizes_[id];
      segment_sizes_.erase(id);
      stats_.segments = segments_.size();
    }
    space_.free(freed);
  }
  if (victims.empty()) return Status::OK();
  return fs_.sync_dir(config_.dir);
}

void Wal::close() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  space_.refuse(make_error("wal: closed", kErrKafkaStorageError));
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(mu_);
  stopped_ = true;
}

WalStats Wal::stats() {
  std::lock_guard lk(mu_);
  WalStats s = stats_;
  s.used_bytes = space_.used();
  return s;
}

uint64_t Wal::active_segment() {
  std::lock_guard lk(mu_);
  return tail_segment_;
}

}  // namespace carelog::storage
