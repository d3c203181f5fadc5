#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/file_system.h"

namespace carelog::storage {

namespace {

Error errno_error(const char* op, const std::string& path) {
  int e = errno;
  return make_error(fmt::format("{} {}: {}", op, path, std::strerror(e)), e);
}

class PosixFile final : public File {
 public:
  static constexpr int kMaxIov = 512;  // well under IOV_MAX (1024 on Linux)

  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Status append(const void* data, size_t size) override {
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) return errno_error("lseek", path_);
    return pwrite(data, size, static_cast<uint64_t>(end));
  }

  Status append_gathered(std::span<const IoSlice> slices) override {
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) return errno_error("lseek", path_);
    iovec iov[kMaxIov];
    size_t next = 0;  // first slice not yet (fully) written
    size_t skip = 0;  // bytes of slices[next] already written
    while (next < slices.size()) {
      int n = 0;
      for (size_t i = next; i < slices.size() && n < kMaxIov; ++i, ++n) {
        const size_t off = i == next ? skip : 0;
        iov[n].iov_base = const_cast<char*>(static_cast<const char*>(slices[i].data) + off);
        iov[n].iov_len = slices[i].size - off;
      }
      ssize_t w = ::pwritev(fd_, iov, n, end);
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno_error("pwritev", path_);
      }
      end += w;
      // Advance past what was written (a short write resumes mid-slice).
      size_t left = static_cast<size_t>(w);
      while (next < slices.size() && left >= slices[next].size - skip) {
        left -= slices[next].size - skip;
        skip = 0;
        ++next;
      }
      skip += left;
    }
    return Status::OK();
  }

  Status pwrite(const void* data, size_t size, uint64_t offset) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("pwrite", path_);
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::OK();
  }

  Result<size_t> pread(void* data, size_t size, uint64_t offset) override {
    char* p = static_cast<char*>(data);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, p + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("pread", path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status datasync() override {
    if (::fdatasync(fd_) != 0) return errno_error("fdatasync", path_);
    return Status::OK();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return errno_error("ftruncate", path_);
    return Status::OK();
  }

  Result<uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return errno_error("fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, bool create) override {
    int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return errno_error("open", path);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Result<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errno_error("opendir", dir);
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(std::move(name));
    }
    ::closedir(d);
    return out;
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_error("unlink", path);
    return Status::OK();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_error("rename", from);
    return Status::OK();
  }

  Status create_dirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(fmt::format("mkdir {}: {}", dir, ec.message()), ec.value());
    return Status::OK();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error("open dir", dir);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) {
      errno = e;
      return errno_error("fsync dir", dir);
    }
    return Status::OK();
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace carelog::storage
