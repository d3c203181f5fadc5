// In-memory PartitionLog for audit tests: assigns offsets to appended
// batches, can be told to fail the next N appends, and reads whole batches.
// Thread-safe (the audit writer appends from its own thread).
#pragma once

#include <mutex>
#include <vector>

#include "partition/partition_log.h"
#include "record/batch.h"

namespace carelog::audit::testing {

class FakePartitionLog : public partition::PartitionLog {
 public:
  void append(partition::AppendRequest request, partition::AppendCallback done) override {
    partition::AppendResult r;
    {
      std::lock_guard lk(mu_);
      if (fail_next_ > 0) {
        --fail_next_;
        r.error = partition::LogError::kKafkaStorageError;
        r.error_message = "injected failure";
      } else {
        auto h = record::parse_header(request.batches.span());
        std::vector<uint8_t> copy(request.batches.data(), request.batches.data() + request.batches.size());
        record::set_base_offset(copy.data(), next_);
        r.base_offset = next_;
        next_ += h->last_offset_delta + 1;
        batches_.push_back(SharedBytes::from_vector(std::move(copy)));
      }
    }
    done(std::move(r));
  }
  partition::ReadResult read(const partition::ReadRequest& request) override {
    std::lock_guard lk(mu_);
    partition::ReadResult out;
    out.high_watermark = next_;
    for (const auto& b : batches_) {
      auto h = record::parse_header(b.span());
      if (h->last_offset() >= request.offset) {
        out.batches.push_back(b);
        out.total_bytes += b.size();
      }
    }
    return out;
  }
  int64_t high_watermark() const override {
    std::lock_guard lk(mu_);
    return next_;
  }
  int64_t log_start_offset() const override { return 0; }
  uint64_t size_bytes() const override { return 0; }
  int64_t last_stable_offset() const override { return high_watermark(); }
  partition::OffsetForTimestamp offset_for_timestamp(int64_t) override { return {}; }
  partition::OffsetForTimestamp max_timestamp() override { return {}; }
  void delete_records_before(int64_t, std::function<void(partition::LogError, int64_t)> done) override {
    done(partition::LogError::kPolicyViolation, -1);
  }
  int32_t leader_epoch() const override { return 0; }
  uint64_t add_listener(std::function<void()>) override { return 0; }
  void cancel_listener(uint64_t) override {}

  void fail_next(int n) {
    std::lock_guard lk(mu_);
    fail_next_ = n;
  }
  size_t batch_count() const {
    std::lock_guard lk(mu_);
    return batches_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<SharedBytes> batches_;
  int64_t next_ = 0;
  int fail_next_ = 0;
};

}  // namespace carelog::audit::testing
