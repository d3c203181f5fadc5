// In-memory MetadataStore for partition tests (the real one lives in
// metadata/). Only what the log engine uses is meaningful.
#pragma once

#include <mutex>

#include "metadata/metadata_store.h"

namespace carelog::partition::testing {

class FakeMetadataStore final : public metadata::MetadataStore {
 public:
  Result<std::string> cluster_id() override { return std::string("test-cluster"); }
  Status create_topic(const metadata::TopicRecord& t) override {
    std::lock_guard lk(mu_);
    topics_[t.id] = t;
    return Status::OK();
  }
  Status delete_topic(const Uuid& id) override {
    std::lock_guard lk(mu_);
    if (!topics_.erase(id)) return make_error("unknown topic", 3);
    return Status::OK();
  }
  Result<std::vector<metadata::TopicRecord>> list_topics() override {
    std::lock_guard lk(mu_);
    std::vector<metadata::TopicRecord> out;
    for (auto& [id, t] : topics_) out.push_back(t);
    return out;
  }
  Result<std::optional<metadata::TopicRecord>> topic_by_name(const std::string& name) override {
    std::lock_guard lk(mu_);
    for (auto& [id, t] : topics_)
      if (t.name == name) return std::optional<metadata::TopicRecord>(t);
    return std::optional<metadata::TopicRecord>();
  }
  Result<std::optional<metadata::TopicRecord>> topic_by_id(const Uuid& id) override {
    std::lock_guard lk(mu_);
    auto it = topics_.find(id);
    if (it == topics_.end()) return std::optional<metadata::TopicRecord>();
    return std::optional<metadata::TopicRecord>(it->second);
  }
  Status set_partition_count(const Uuid& id, int32_t partitions) override {
    std::lock_guard lk(mu_);
    topics_[id].partitions = partitions;
    return Status::OK();
  }
  Status set_topic_configs(const Uuid& id, const metadata::ConfigMap& configs) override {
    std::lock_guard lk(mu_);
    topics_[id].configs = configs;
    return Status::OK();
  }
  Status set_log_start_offset(const metadata::PartitionKey& p, int64_t offset) override {
    std::lock_guard lk(mu_);
    if (fail_writes) return make_error("injected metadata failure");
    log_starts_[p] = offset;
    return Status::OK();
  }
  Result<std::map<metadata::PartitionKey, int64_t>> log_start_offsets() override {
    std::lock_guard lk(mu_);
    return log_starts_;
  }
  Result<int64_t> allocate_producer_ids(int64_t count) override {
    std::lock_guard lk(mu_);
    int64_t first = next_pid_;
    next_pid_ += count;
    return first;
  }
  Result<metadata::ConfigMap> broker_configs() override { return metadata::ConfigMap{}; }
  Status set_broker_configs(const metadata::ConfigMap&) override { return Status::OK(); }

  bool fail_writes = false;

 private:
  std::mutex mu_;
  std::map<Uuid, metadata::TopicRecord> topics_;
  std::map<metadata::PartitionKey, int64_t> log_starts_;
  int64_t next_pid_ = 1000;
};

}  // namespace carelog::partition::testing
