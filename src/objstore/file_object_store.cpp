#include "objstore/file_object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "common/log.h"
#include "fmt/core.h"

namespace carelog::objstore {
namespace {

namespace fs = std::filesystem;
constexpr const char* kTmpDir = ".tmp";

int32_t code_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return kErrNotFound;
    case EIO:
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case EINTR:
    case EAGAIN:
    case ENOMEM:
    case EBUSY:
    case ETIMEDOUT:
    case ESTALE:
      return kErrTransient;
    default:
      return kErrPermanent;
  }
}

Error errno_error(std::string_view what, const std::string& path, int err) {
  return Error{code_for_errno(err), fmt::format("{} '{}': {}", what, path, std::strerror(err))};
}

// Closes the descriptor on every path out of a function.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

Status fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0) return errno_error("open directory", dir, errno);
  if (::fsync(d.fd) != 0) return errno_error("fsync directory", dir, errno);
  return Status::OK();
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".")
                                    : (slash == 0 ? std::string("/") : path.substr(0, slash));
}

std::string make_etag(const struct stat& st) {
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return fmt::format("{:x}-{:x}-{:x}", static_cast<uint64_t>(st.st_ino), mtime_ns,
                     static_cast<uint64_t>(st.st_size));
}

ObjectInfo info_from_stat(const std::string& key, const struct stat& st) {
  ObjectInfo info;
  info.key = key;
  info.size = static_cast<uint64_t>(st.st_size);
  info.etag = make_etag(st);
  info.mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  return info;
}

}  // namespace

Result<std::unique_ptr<FileObjectStore>> FileObjectStore::open(const std::string& root_in) {
  if (root_in.empty()) return Error{kErrInvalidArgument, "file object store: empty root path"};
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec)
    return Error{code_for_errno(ec.value()),
                 fmt::format("file object store: cannot create '{}': {}", root, ec.message())};
  if (!fs::is_directory(root, ec))
    return Error{kErrPermanent, fmt::format("file object store: '{}' is not a directory", root)};
  std::string tmp = root + "/" + kTmpDir;
  fs::create_directories(tmp, ec);
  if (ec)
    return Error{code_for_errno(ec.value()),
                 fmt::format("file object store: cannot create '{}': {}", tmp, ec.message())};
  // Leftovers of puts interrupted by a crash: never visible, just garbage.
  size_t stale = 0;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm_ec;
    if (fs::remove(it->path(), rm_ec)) ++stale;
  }
  if (ec)
    return Error{code_for_errno(ec.value()),
                 fmt::format("file object store: cannot list '{}': {}", tmp, ec.message())};
  if (stale > 0) log::info("file object store {}: removed {} stale temporary files", root, stale);
  CARELOG_RETURN_IF_ERROR(fsync_dir(root));
  return std::unique_ptr<FileObjectStore>(new FileObjectStore(root));
}

Status FileObjectStore::make_parent_dirs(const std::string& key) {
  std::string dir = root_;
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    if (slash == std::string::npos) return Status::OK();
    std::string parent = dir;
    dir += "/" + key.substr(start, slash - start);
    start = slash + 1;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // The new directory entry must be durable before the object in it is.
      CARELOG_RETURN_IF_ERROR(fsync_dir(parent));
      continue;
    }
    if (errno != EEXIST) return errno_error("create directory", dir, errno);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return errno_error("stat", dir, errno);
    if (!S_ISDIR(st.st_mode))
      return Error{kErrPermanent,
                   fmt::format("file object store: '{}' is an object, so it cannot be a key prefix", dir)};
  }
}

Status FileObjectStore::put(const std::string& key, const SharedBytes& bytes) {
  Status st = write_object(key, bytes);
  std::lock_guard lk(health_mu_);
  put_failure_ = st.ok() ? std::string() : st.error().message;
  return st;
}

StoreHealth FileObjectStore::health() const {
  std::lock_guard lk(health_mu_);
  return StoreHealth{put_failure_.empty(), "file://" + root_,
                     put_failure_.empty() ? "" : "PUT: " + put_failure_};
}

Status FileObjectStore::write_object(const std::string& key, const SharedBytes& bytes) {
  CARELOG_RETURN_IF_ERROR(validate_key(key));
  CARELOG_RETURN_IF_ERROR(make_parent_dirs(key));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = fmt::format("{}/{}/{}-{}-{:x}", root_, kTmpDir, ::getpid(), tmp_seq_.fetch_add(1), rng());
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  {
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (f.fd < 0) return fail(errno_error("create", tmp, errno));
    const uint8_t* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(f.fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno_error("write", tmp, errno));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) return fail(errno_error("fsync", tmp, errno));
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) return fail(errno_error("close", tmp, errno));
  }
  std::string target = path_of(key);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    if (err == EISDIR || err == ENOTEMPTY || err == EEXIST)
      return fail(
          Error{kErrPermanent, fmt::format("file object store: key '{}' is a prefix of other keys", key)});
    return fail(errno_error("rename into", target, err));
  }
  return fsync_dir(parent_of(target));
}

Result<SharedBytes> FileObjectStore::get(const std::string& key, std::optional<ByteRange> range) {
  CARELOG_RETURN_IF_ERROR(validate_key(key));
  std::string path = path_of(key);
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return errno_error("open", path, errno);
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return errno_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Error{kErrNotFound, fmt::format("object '{}' does not exist", key)};
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t offset = 0, length = size;
  if (range) {
    if (range->suffix) {
      length = std::min(range->length, size);
      offset = size - length;
    } else {
      if (range->offset > size)
        return Error{kErrInvalidArgument, fmt::format("object '{}': range offset {} is past its end ({})",
                                                      key, range->offset, size)};
      offset = range->offset;
      length = std::min(range->length, size - offset);
    }
  }
  // Uninitialized: pread fills every byte (zeroing first cost as much as
  // the read itself on the fetch path).
  std::shared_ptr<uint8_t[]> buf(new uint8_t[length]);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(f.fd, buf.get() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read", path, errno);
    }
    // Objects are immutable once in place (a replace is a new inode), so a
    // short read means the file was damaged underneath us.
    if (n == 0) return Error{kErrTransient, fmt::format("object '{}': unexpected end of file", key)};
    done += static_cast<uint64_t>(n);
  }
  const uint8_t* data = buf.get();
  return SharedBytes(std::shared_ptr<const uint8_t[]>(std::move(buf)), data, length);
}

Result<ObjectInfo> FileObjectStore::head(const std::string& key) {
  CARELOG_RETURN_IF_ERROR(validate_key(key));
  std::string path = path_of(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Error{kErrNotFound, fmt::format("object '{}' does not exist", key)};
  return info_from_stat(key, st);
}

Result<ListPage> FileObjectStore::list(const std::string& prefix, const std::string& continuation,
                                       int max_keys) {
  max_keys = std::clamp(max_keys, 1, 1000);
  // Only the directory named by the prefix's complete components can hold
  // matching keys.
  auto slash = prefix.rfind('/');
  std::string sub = slash == std::string::npos ? std::string() : prefix.substr(0, slash);
  if (!sub.empty()) {
    Status valid = validate_key(sub);
    if (!valid.ok()) return ListPage{};  // no valid key can have this prefix
  }
  std::string start = sub.empty() ? root_ : root_ + "/" + sub;
  std::vector<std::string> keys;
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return ListPage{};
  size_t root_len = root_.size() + 1;
  fs::recursive_directory_iterator it(start, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    std::string key = it->path().string().substr(root_len);
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!continuation.empty() && key <= continuation) continue;
    keys.push_back(std::move(key));
  }
  if (ec)
    return Error{code_for_errno(ec.value()),
                 fmt::format("file object store: listing '{}' failed: {}", start, ec.message())};
  std::sort(keys.begin(), keys.end());
  ListPage page;
  for (const auto& key : keys) {
    if (page.objects.size() == static_cast<size_t>(max_keys)) {
      page.next_continuation = page.objects.back().key;
      break;
    }
    struct stat st;
    if (::stat(path_of(key).c_str(), &st) != 0) continue;  // removed meanwhile
    page.objects.push_back(info_from_stat(key, st));
  }
  return page;
}

Status FileObjectStore::remove(const std::string& key) {
  CARELOG_RETURN_IF_ERROR(validate_key(key));
  std::string path = path_of(key);
  if (::unlink(path.c_str()) != 0) {
    int err = errno;
    // Absent (or a directory, which is never an object): nothing to delete.
    if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::OK();
    return errno_error("remove", path, err);
  }
  return fsync_dir(parent_of(path));
}

}  // namespace carelog::objstore
