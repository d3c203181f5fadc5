#include "txn/coordinator.h"

#include <algorithm>
#include <atomic>

#include "common/log.h"
#include "protocol/error_codes.h"
#include "txn/txn_codec.h"

namespace carelog::txn {
namespace {

using protocol::ErrorCode;
int16_t E(ErrorCode c) { return static_cast<int16_t>(c); }

constexpr int16_t kMaxEpoch = 32767;
// Kafka bumps to a new producer id when the epoch would reach the maximum.
bool epoch_exhausted(int16_t epoch) { return epoch >= kMaxEpoch - 1; }

// Bumps the epoch (remembering the previous one) so requests of the
// current one are fenced; an exhausted epoch stays (a new producer id
// comes with the next InitProducerId).
void fence_epoch(TxnMetadata& m) {
  if (epoch_exhausted(m.producer_epoch)) return;
  m.last_producer_id = m.producer_id;
  m.last_producer_epoch = m.producer_epoch;
  m.producer_epoch++;
}

bool preparing(TxnState s) {
  return s == TxnState::kPrepareCommit || s == TxnState::kPrepareAbort || s == TxnState::kPrepareEpochFence;
}

}  // namespace

std::string_view state_name(TxnState s) {
  switch (s) {
    case TxnState::kEmpty:
      return "Empty";
    case TxnState::kOngoing:
      return "Ongoing";
    case TxnState::kPrepareCommit:
      return "PrepareCommit";
    case TxnState::kPrepareAbort:
      return "PrepareAbort";
    case TxnState::kCompleteCommit:
      return "CompleteCommit";
    case TxnState::kCompleteAbort:
      return "CompleteAbort";
    case TxnState::kDead:
      return "Dead";
    case TxnState::kPrepareEpochFence:
      return "PrepareEpochFence";
  }
  return "Unknown";
}

std::optional<TxnState> parse_state(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(TxnState::kPrepareEpochFence); ++i) {
    auto s = static_cast<TxnState>(i);
    std::string_view n = state_name(s);
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return s;
  }
  return std::nullopt;
}

TxnCoordinator::TxnCoordinator(TxnConfig config, metadata::MetadataStore& store, TxnHooks hooks,
                               TxnClock& clock)
    : config_(config), store_(store), hooks_(std::move(hooks)), clock_(clock) {}

TxnCoordinator::~TxnCoordinator() { shutdown(); }

Status TxnCoordinator::load() {
  auto rows = store_.transactions();
  if (!rows.ok()) return rows.take_error();
  std::lock_guard lock(mu_);
  size_t unfinished = 0;
  for (const auto& [id, blob] : *rows) {
    auto m = decode_txn(blob);
    if (!m.ok()) {
      log::error("transaction coordinator: state of {} unreadable: {}", id, m.error().message);
      continue;
    }
    if (preparing(m->state) || m->state == TxnState::kOngoing) unfinished++;
    txns_[id] = std::move(m).value();
  }
  log::info("transaction coordinator: loaded {} transactional ids ({} with unfinished transactions)",
            txns_.size(), unfinished);
  return Status::OK();
}

void TxnCoordinator::start() {
  {
    std::lock_guard lock(work_mu_);
    if (worker_.joinable() || stop_) return;
    worker_ = std::thread([this] { worker(); });
  }
  post([this] { tick(); });
}

void TxnCoordinator::shutdown() {
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
  }
  {
    std::lock_guard lock(work_mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void TxnCoordinator::post(std::function<void()> fn) {
  {
    std::lock_guard lock(work_mu_);
    work_.push_back(std::move(fn));
  }
  work_cv_.notify_one();
}

void TxnCoordinator::run_pending() {
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(work_mu_);
      if (work_.empty()) return;
      fn = std::move(work_.front());
      work_.pop_front();
    }
    fn();
  }
}

void TxnCoordinator::worker() {
  const auto interval = std::chrono::milliseconds(
      std::max<int64_t>(1, std::min(config_.abort_check_interval_ms, config_.retry_interval_ms)));
  auto next_tick = std::chrono::steady_clock::now() + interval;
  std::unique_lock lock(work_mu_);
  while (!stop_) {
    if (work_.empty()) work_cv_.wait_until(lock, next_tick, [&] { return stop_ || !work_.empty(); });
    if (stop_) break;
    while (!work_.empty()) {
      auto fn = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
    if (std::chrono::steady_clock::now() >= next_tick) {
      lock.unlock();
      tick();
      lock.lock();
      next_tick = std::chrono::steady_clock::now() + interval;
    }
  }
}

void TxnCoordinator::run(Completions& out) {
  for (auto& fn : out) fn();
  out.clear();
}

Status TxnCoordinator::persist_locked(const TxnMetadata& m) {
  Status st = store_.put_transaction(m.transactional_id, encode_txn(m));
  if (!st.ok()) log::error("transaction {}: state not persisted: {}", m.transactional_id, st.error().message);
  return st;
}

void TxnCoordinator::tick() {
  std::vector<std::string> start;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    const int64_t now = clock_.wall_ms();
    for (auto& [id, m] : txns_) {
      if (completing_.count(id)) continue;
      if (preparing(m.state)) {
        start.push_back(id);  // unfinished completion (crash, failed marker write)
      } else if (m.state == TxnState::kOngoing && m.start_ms + m.timeout_ms <= now) {
        log::info("transaction {}: timed out after {} ms, aborting (producer {} epoch {} fenced)", id,
                  m.timeout_ms, m.producer_id, m.producer_epoch);
        TxnMetadata before = m;
        fence_epoch(m);
        if (prepare_end_locked(m, false) != 0) {
          m = before;
          continue;
        }
        completing_[id];
        start.push_back(id);
        continue;
      }
    }
    for (const auto& id : start) completing_[id];
    expire_ids_locked(now);
  }
  for (const auto& id : start) complete(id);
}

void TxnCoordinator::expire_ids_locked(int64_t now) {
  // transactional.id.expiration.ms: an id whose last transaction ended (or
  // that never began one) that long ago is forgotten, as Kafka forgets it;
  // its producer's next InitProducerId starts afresh with a new producer id.
  for (auto it = txns_.begin(); it != txns_.end();) {
    const TxnMetadata& m = it->second;
    const bool idle = m.state == TxnState::kEmpty || m.state == TxnState::kCompleteCommit ||
                      m.state == TxnState::kCompleteAbort;
    if (!idle || completing_.count(it->first) || m.update_ms < 0 ||
        now - m.update_ms < config_.id_expiration_ms) {
      ++it;
      continue;
    }
    if (Status st = store_.delete_transaction(it->first); !st.ok()) {
      log::warn("transaction {}: expiry not written, kept: {}", it->first, st.error().message);
      ++it;
      continue;
    }
    log::info("transactional id {}: expired after {} ms without a transaction", it->first, now - m.update_ms);
    it = txns_.erase(it);
  }
}

int16_t TxnCoordinator::prepare_end_locked(TxnMetadata& m, bool commit) {
  const TxnState before = m.state;
  m.state = commit ? TxnState::kPrepareCommit : TxnState::kPrepareAbort;
  m.update_ms = clock_.wall_ms();
  if (!persist_locked(m).ok()) {
    m.state = before;
    return E(ErrorCode::kCoordinatorNotAvailable);
  }
  return 0;
}

void TxnCoordinator::complete(const std::string& id) {
  TxnMetadata snap;
  {
    std::lock_guard lock(mu_);
    auto it = txns_.find(id);
    if (it == txns_.end() || !preparing(it->second.state)) return;
    snap = it->second;
  }
  const bool commit = snap.state == TxnState::kPrepareCommit;
  const bool offsets = commit && !snap.offsets.empty();
  struct Join {
    std::atomic<int> remaining;
    std::mutex mu;
    Status first = Status::OK();
  };
  auto join = std::make_shared<Join>();
  join->remaining = offsets ? 2 : 1;
  auto finish = [this, id, join](Status st) {
    {
      std::lock_guard lock(join->mu);
      if (!st.ok() && join->first.ok()) join->first = st;
    }
    if (join->remaining.fetch_sub(1) != 1) return;
    Status result = Status::OK();
    {
      std::lock_guard lock(join->mu);
      result = join->first;
    }
    post([this, id, result] { on_completed(id, result); });
  };
  std::vector<TopicPartition> parts(snap.partitions.begin(), snap.partitions.end());
  hooks_.write_markers(snap.producer_id, snap.producer_epoch, commit, std::move(parts), finish);
  if (offsets) hooks_.commit_offsets(snap.offsets, finish);
}

void TxnCoordinator::on_completed(const std::string& id, Status st) {
  Completions out;
  {
    std::lock_guard lock(mu_);
    auto it = txns_.find(id);
    auto waiting = completing_.find(id);
    std::vector<std::function<void(EndResult)>> waiters;
    if (waiting != completing_.end()) {
      waiters = std::move(waiting->second);
      completing_.erase(waiting);
    }
    EndResult r;
    if (it == txns_.end()) {
      r.error = E(ErrorCode::kCoordinatorNotAvailable);
    } else {
      TxnMetadata& m = it->second;
      r.producer_id = m.producer_id;
      r.producer_epoch = m.producer_epoch;
      if (!st.ok()) {
        // Stays Prepare*: tick() retries. The client retries its EndTxn.
        log::warn("transaction {}: completion failed ({}); retrying", id, st.error().message);
        r.error = E(ErrorCode::kConcurrentTransactions);
      } else {
        TxnMetadata next = m;
        next.state =
            m.state == TxnState::kPrepareCommit ? TxnState::kCompleteCommit : TxnState::kCompleteAbort;
        next.partitions.clear();
        next.groups.clear();
        next.offsets.clear();
        next.start_ms = -1;
        next.update_ms = clock_.wall_ms();
        if (persist_locked(next).ok()) {
          m = std::move(next);
        } else {
          r.error = E(ErrorCode::kConcurrentTransactions);
        }
      }
    }
    for (auto& w : waiters) out.push_back([w = std::move(w), r] { w(r); });
  }
  run(out);
}

void TxnCoordinator::begin_completion_locked(const std::string& id) {
  completing_[id];
  post([this, id] { complete(id); });
}

void TxnCoordinator::init_producer_id(const std::string& id, int32_t timeout_ms, int64_t expected_producer_id,
                                      int16_t expected_epoch, std::function<void(InitResult)> done) {
  InitResult r;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) {
      r.error = E(ErrorCode::kCoordinatorNotAvailable);
    } else if (id.empty()) {
      r.error = E(ErrorCode::kInvalidRequest);
    } else if (timeout_ms <= 0 || timeout_ms > config_.max_timeout_ms) {
      r.error = E(ErrorCode::kInvalidTransactionTimeout);
    } else if (auto it = txns_.find(id); it == txns_.end()) {
      auto pid = hooks_.allocate_producer_id();
      if (!pid.ok()) {
        r.error = E(ErrorCode::kCoordinatorNotAvailable);
      } else {
        TxnMetadata m;
        m.transactional_id = id;
        m.producer_id = *pid;
        m.producer_epoch = 0;
        m.timeout_ms = timeout_ms;
        m.state = TxnState::kEmpty;
        m.update_ms = clock_.wall_ms();
        if (persist_locked(m).ok()) {
          r.producer_id = m.producer_id;
          r.producer_epoch = m.producer_epoch;
          txns_.emplace(id, std::move(m));
        } else {
          r.error = E(ErrorCode::kCoordinatorNotAvailable);
        }
      }
    } else {
      TxnMetadata& m = it->second;
      const bool expected = expected_producer_id >= 0;
      // Kafka's rule: a given id must be the current one, or the previous
      // one with an exhausted epoch (a retry after a bump to a new id).
      const bool valid_id = !expected || m.producer_epoch < 0 || expected_producer_id == m.producer_id ||
                            (expected_producer_id == m.last_producer_id && epoch_exhausted(expected_epoch));
      if (completing_.count(id) || preparing(m.state)) {
        r.error = E(ErrorCode::kConcurrentTransactions);
      } else if (!valid_id) {
        r.error = E(ErrorCode::kProducerFenced);
      } else if (m.state == TxnState::kOngoing) {
        // A new incarnation of the producer: fence the old one (epoch + 1)
        // and abort its transaction; the caller retries.
        TxnMetadata before = m;
        fence_epoch(m);
        if (prepare_end_locked(m, false) != 0) {
          m = before;
          r.error = E(ErrorCode::kCoordinatorNotAvailable);
        } else {
          begin_completion_locked(id);
          r.error = E(ErrorCode::kConcurrentTransactions);
        }
      } else if (expected && expected_producer_id == m.last_producer_id &&
                 expected_epoch == m.last_producer_epoch && m.producer_id != expected_producer_id) {
        // Retry of a bump to a new producer id whose answer was lost.
        r.producer_id = m.producer_id;
        r.producer_epoch = m.producer_epoch;
      } else if (expected && expected_epoch != m.producer_epoch && m.producer_epoch >= 0) {
        if (expected_producer_id == m.producer_id && expected_epoch == m.last_producer_epoch &&
            m.last_producer_id == m.producer_id) {
          // Retry of the last bump.
          r.producer_id = m.producer_id;
          r.producer_epoch = m.producer_epoch;
        } else {
          r.error = E(ErrorCode::kProducerFenced);
        }
      } else if (m.state == TxnState::kDead) {
        r.error = E(ErrorCode::kInvalidTxnState);
      } else {
        TxnMetadata next = m;
        if (epoch_exhausted(m.producer_epoch)) {
          auto pid = hooks_.allocate_producer_id();
          if (!pid.ok()) {
            r.error = E(ErrorCode::kCoordinatorNotAvailable);
          } else {
            next.last_producer_id = m.producer_id;
            next.last_producer_epoch = m.producer_epoch;
            next.producer_id = *pid;
            next.producer_epoch = 0;
          }
        } else {
          next.last_producer_id = m.producer_id;
          next.last_producer_epoch = m.producer_epoch;
          next.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
        }
        if (r.error == 0) {
          next.timeout_ms = timeout_ms;
          next.state = TxnState::kEmpty;
          next.partitions.clear();
          next.groups.clear();
          next.offsets.clear();
          next.start_ms = -1;
          next.txn_version = 1;
          next.update_ms = clock_.wall_ms();
          if (persist_locked(next).ok()) {
            m = std::move(next);
            r.producer_id = m.producer_id;
            r.producer_epoch = m.producer_epoch;
          } else {
            r.error = E(ErrorCode::kCoordinatorNotAvailable);
          }
        }
      }
    }
  }
  done(r);
}

int16_t TxnCoordinator::extend_locked(const std::string& id, int64_t producer_id, int16_t epoch,
                                      const std::function<bool(const TxnMetadata&)>& included,
                                      const std::function<void(TxnMetadata&)>& add) {
  if (shut_down_) return E(ErrorCode::kCoordinatorNotAvailable);
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id != producer_id)
    return E(ErrorCode::kInvalidProducerIdMapping);
  TxnMetadata& m = it->second;
  if (m.producer_epoch != epoch) return E(ErrorCode::kProducerFenced);
  if (completing_.count(id) || preparing(m.state)) return E(ErrorCode::kConcurrentTransactions);
  if (m.state == TxnState::kDead) return E(ErrorCode::kInvalidTxnState);
  if (m.state == TxnState::kOngoing && included(m)) return 0;
  TxnMetadata next = m;
  add(next);
  if (next.state != TxnState::kOngoing) {
    next.state = TxnState::kOngoing;
    next.start_ms = clock_.wall_ms();
  }
  next.update_ms = clock_.wall_ms();
  if (!persist_locked(next).ok()) return E(ErrorCode::kCoordinatorNotAvailable);
  m = std::move(next);
  return 0;
}

int16_t TxnCoordinator::add_partitions(const std::string& id, int64_t producer_id, int16_t epoch,
                                       const std::vector<TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  return extend_locked(
      id, producer_id, epoch,
      [&](const TxnMetadata& m) {
        return std::all_of(partitions.begin(), partitions.end(),
                           [&](const TopicPartition& tp) { return m.partitions.count(tp) > 0; });
      },
      [&](TxnMetadata& m) { m.partitions.insert(partitions.begin(), partitions.end()); });
}

int16_t TxnCoordinator::verify_partition(const std::string& id, int64_t producer_id, int16_t epoch,
                                         const TopicPartition& partition) {
  std::lock_guard lock(mu_);
  if (shut_down_) return E(ErrorCode::kNotCoordinator);
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id != producer_id)
    return E(ErrorCode::kInvalidProducerIdMapping);
  const TxnMetadata& m = it->second;
  if (epoch < m.producer_epoch) return E(ErrorCode::kInvalidProducerEpoch);
  if (m.state != TxnState::kOngoing || !m.partitions.count(partition) || epoch != m.producer_epoch)
    return E(ErrorCode::kInvalidTxnState);
  return 0;
}

int16_t TxnCoordinator::add_offsets(const std::string& id, int64_t producer_id, int16_t epoch,
                                    const std::string& group) {
  std::lock_guard lock(mu_);
  return extend_locked(
      id, producer_id, epoch, [&](const TxnMetadata& m) { return m.groups.count(group) > 0; },
      [&](TxnMetadata& m) { m.groups.insert(group); });
}

int16_t TxnCoordinator::stage_offsets(const std::string& id, int64_t producer_id, int16_t epoch,
                                      const std::string& group, const std::vector<PendingOffset>& offsets) {
  std::lock_guard lock(mu_);
  if (shut_down_) return E(ErrorCode::kCoordinatorNotAvailable);
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id != producer_id)
    return E(ErrorCode::kInvalidProducerIdMapping);
  TxnMetadata& m = it->second;
  if (m.producer_epoch != epoch) return E(ErrorCode::kInvalidProducerEpoch);
  if (completing_.count(id) || m.state != TxnState::kOngoing || !m.groups.count(group))
    return E(ErrorCode::kInvalidTxnState);
  TxnMetadata next = m;
  for (const auto& o : offsets) {
    auto same = std::find_if(next.offsets.begin(), next.offsets.end(), [&](const PendingOffset& p) {
      return p.group == o.group && p.topic == o.topic && p.partition == o.partition;
    });
    if (same != next.offsets.end())
      *same = o;
    else
      next.offsets.push_back(o);
  }
  next.update_ms = clock_.wall_ms();
  if (!persist_locked(next).ok()) return E(ErrorCode::kCoordinatorNotAvailable);
  m = std::move(next);
  return 0;
}

void TxnCoordinator::end_txn(const std::string& id, int64_t producer_id, int16_t epoch, bool commit,
                             bool bump_epoch, std::function<void(EndResult)> done) {
  EndResult r;
  {
    std::lock_guard lock(mu_);
    auto it = txns_.find(id);
    if (shut_down_) {
      r.error = E(ErrorCode::kCoordinatorNotAvailable);
    } else if (it == txns_.end() || it->second.producer_id != producer_id) {
      r.error = E(ErrorCode::kInvalidProducerIdMapping);
    } else {
      TxnMetadata& m = it->second;
      r.producer_id = m.producer_id;
      r.producer_epoch = m.producer_epoch;
      const bool retry_of_bump = bump_epoch && m.last_producer_id == producer_id &&
                                 m.last_producer_epoch == epoch && m.producer_epoch == epoch + 1;
      const bool committed = m.state == TxnState::kCompleteCommit;
      const bool aborted = m.state == TxnState::kCompleteAbort;
      if (retry_of_bump && ((commit && committed) || (!commit && aborted))) {
        // TV2 retry after a lost answer: the transaction already ended.
      } else if (m.producer_epoch != epoch) {
        r.error = E(ErrorCode::kProducerFenced);
      } else if (completing_.count(id)) {
        r.error = E(ErrorCode::kConcurrentTransactions);
      } else {
        switch (m.state) {
          case TxnState::kOngoing: {
            TxnMetadata before = m;
            if (bump_epoch) {
              m.txn_version = 2;
              fence_epoch(m);
            }
            if (int16_t e = prepare_end_locked(m, commit); e != 0) {
              m = before;
              r.error = e;
              break;
            }
            completing_[id].push_back(std::move(done));
            post([this, id] { complete(id); });
            return;
          }
          case TxnState::kCompleteCommit:
            if (!commit) r.error = E(ErrorCode::kInvalidTxnState);
            break;
          case TxnState::kCompleteAbort:
            if (commit) r.error = E(ErrorCode::kInvalidTxnState);
            break;
          case TxnState::kPrepareCommit:
            r.error = E(commit ? ErrorCode::kConcurrentTransactions : ErrorCode::kInvalidTxnState);
            break;
          case TxnState::kPrepareAbort:
            r.error = E(commit ? ErrorCode::kInvalidTxnState : ErrorCode::kConcurrentTransactions);
            break;
          case TxnState::kEmpty:
          case TxnState::kDead:
          case TxnState::kPrepareEpochFence:
            r.error = E(ErrorCode::kInvalidTxnState);
            break;
        }
      }
    }
  }
  done(r);
}

std::optional<TxnMetadata> TxnCoordinator::describe(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = txns_.find(id);
  if (it == txns_.end()) return std::nullopt;
  return it->second;
}

std::vector<TxnMetadata> TxnCoordinator::list() {
  std::lock_guard lock(mu_);
  std::vector<TxnMetadata> out;
  out.reserve(txns_.size());
  for (const auto& [id, m] : txns_) out.push_back(m);
  return out;
}

bool TxnCoordinator::has_pending_offsets(const std::string& group, const std::string& topic,
                                         int32_t partition) {
  std::lock_guard lock(mu_);
  for (const auto& [id, m] : txns_) {
    if (!m.groups.count(group)) continue;
    for (const auto& o : m.offsets)
      if (o.group == group && o.topic == topic && o.partition == partition) return true;
  }
  return false;
}

}  // namespace carelog::txn
