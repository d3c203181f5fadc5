#include "storage/mem_file_system.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace carelog::storage {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

class MemFile final : public File {
 public:
  MemFile(MemFileSystem* fs, std::shared_ptr<MemFileSystem::Node> node) : fs_(fs), node_(std::move(node)) {}

  Status append(const void* data, size_t size) override {
    size_t at;
    {
      std::lock_guard lk(node_->mu);
      at = node_->data.size();
    }
    return pwrite(data, size, at);
  }

  Status pwrite(const void* data, size_t size, uint64_t offset) override {
    Status st = fs_->before_write();
    size_t n = st.ok() ? size : (fs_->torn() ? size / 2 : 0);
    std::lock_guard lk(node_->mu);
    if (node_->data.size() < offset + n) node_->data.resize(offset + n);
    if (n) std::memcpy(node_->data.data() + offset, data, n);
    return st;
  }

  Result<size_t> pread(void* data, size_t size, uint64_t offset) override {
    std::lock_guard lk(node_->mu);
    if (offset >= node_->data.size()) return size_t{0};
    size_t n = std::min<size_t>(size, node_->data.size() - offset);
    std::memcpy(data, node_->data.data() + offset, n);
    return n;
  }

  Status datasync() override {
    CARELOG_RETURN_IF_ERROR(fs_->before_sync());
    std::lock_guard lk(node_->mu);
    node_->synced = node_->data.size();
    return Status::OK();
  }

  Status truncate(uint64_t size) override {
    std::lock_guard lk(node_->mu);
    node_->data.resize(size);
    node_->synced = std::min<size_t>(node_->synced, size);
    return Status::OK();
  }

  Result<uint64_t> size() override {
    std::lock_guard lk(node_->mu);
    return static_cast<uint64_t>(node_->data.size());
  }

 private:
  MemFileSystem* fs_;
  std::shared_ptr<MemFileSystem::Node> node_;
};

}  // namespace

Status MemFileSystem::before_write() {
  writes_++;
  if (write_countdown_.load() > 0 && --write_countdown_ == 0)
    return make_error("injected write failure", EIO);
  return Status::OK();
}

Status MemFileSystem::before_sync() {
  syncs_++;
  if (auto us = sync_delay_us_.load(); us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
  if (sync_countdown_.load() > 0 && --sync_countdown_ == 0) return make_error("injected sync failure", EIO);
  return Status::OK();
}

Result<std::unique_ptr<File>> MemFileSystem::open(const std::string& path, bool create) {
  std::lock_guard lk(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) return make_error(fmt::format("open {}: no such file", path), ENOENT);
    if (!dirs_.count(parent_of(path)))
      return make_error(fmt::format("open {}: no such directory", path), ENOENT);
    it = files_.emplace(path, std::make_shared<Node>()).first;
  }
  return std::unique_ptr<File>(std::make_unique<MemFile>(this, it->second));
}

Result<std::vector<std::string>> MemFileSystem::list(const std::string& dir) {
  std::lock_guard lk(mu_);
  if (!dirs_.count(dir)) return make_error(fmt::format("list {}: no such directory", dir), ENOENT);
  std::vector<std::string> out;
  std::string prefix = dir + "/";
  for (auto& [path, node] : files_) {
    if (path.compare(0, prefix.size(), prefix) == 0 && path.find('/', prefix.size()) == std::string::npos) {
      out.push_back(path.substr(prefix.size()));
    }
  }
  return out;
}

Status MemFileSystem::remove(const std::string& path) {
  std::lock_guard lk(mu_);
  if (files_.erase(path) == 0) return make_error(fmt::format("remove {}: no such file", path), ENOENT);
  return Status::OK();
}

Status MemFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lk(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return make_error(fmt::format("rename {}: no such file", from), ENOENT);
  auto node = it->second;
  files_.erase(it);
  node->entry_durable = false;
  files_[to] = node;
  return Status::OK();
}

Status MemFileSystem::create_dirs(const std::string& dir) {
  std::lock_guard lk(mu_);
  std::string d = dir;
  while (!d.empty() && d != "." && d != "/") {
    dirs_.insert(d);
    d = parent_of(d);
  }
  return Status::OK();
}

Status MemFileSystem::sync_dir(const std::string& dir) {
  CARELOG_RETURN_IF_ERROR(before_sync());
  std::lock_guard lk(mu_);
  for (auto& [path, node] : files_) {
    if (parent_of(path) == dir) node->entry_durable = true;
  }
  return Status::OK();
}

void MemFileSystem::crash() {
  std::lock_guard lk(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second->entry_durable) {
      it = files_.erase(it);
      continue;
    }
    std::lock_guard nl(it->second->mu);
    it->second->data.resize(it->second->synced);
    ++it;
  }
  write_countdown_ = 0;
  sync_countdown_ = 0;
}

std::shared_ptr<MemFileSystem::Node> MemFileSystem::node(const std::string& path) {
  std::lock_guard lk(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

}  // namespace carelog::storage
