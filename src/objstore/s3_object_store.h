// S3ObjectStore: the ObjectStore contract on any S3-compatible service (AWS
// S3, Ceph RADOS Gateway, MinIO), over HTTP(S) with SigV4 signing.
//
// Layout: object keys live under an optional prefix inside one bucket
// (s3://bucket/prefix -> key "prefix/<key>"). list() hides the prefix.
//
// Reliability: each HTTP request is retried with exponential backoff and
// full jitter on 5xx, throttling, timeouts and connection failures (bounded
// by S3Options::max_attempts). Authentication failures, a missing bucket and
// other 4xx are permanent and name the bucket and the S3 error code. Every
// response is checked: single-part PUT ETags against the payload MD5, ranged
// GET lengths against the requested range, list keys against the prefix.
//
// Threading: thread-safe; calls block on the network (storage threads only).
// At most S3Options::max_connections requests are in flight at once; further
// callers wait. Owns its connection pool; stats are lock-free counters.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "objstore/object_store.h"
#include "objstore/s3_http.h"
#include "objstore/s3_options.h"

namespace carelog::objstore {

// A snapshot of request counters, for the metrics endpoint.
struct S3Stats {
  enum Op { kGet, kPut, kHead, kList, kDelete, kDeleteBatch, kMultipart, kBucket, kOpCount };
  // 0: 2xx, 1: 3xx, 2: 4xx, 3: 5xx, 4: transport error (no HTTP status).
  static constexpr int kClassCount = 5;
  // Latency histogram upper bounds in ms; the last bucket is unbounded.
  static constexpr std::array<int, 11> kLatencyBoundsMs = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};
  static constexpr int kLatencyBuckets = kLatencyBoundsMs.size() + 1;

  static const char* op_name(int op);

  uint64_t requests[kOpCount][kClassCount] = {};
  uint64_t retries = 0;    // requests re-sent after a transient failure
  uint64_t failures = 0;   // operations that returned an error to the caller
  uint64_t bytes_out = 0;  // request bodies sent
  uint64_t bytes_in = 0;   // response bodies received
  uint64_t latency[kLatencyBuckets] = {};
};

class S3ObjectStore : public ObjectStore {
 public:
  // Resolves credentials/region (see resolve_s3_options). Does no I/O.
  static Result<std::unique_ptr<S3ObjectStore>> open(const S3Location& where, S3Options opts);

  // Start-up probe: lists at most one key. Fails with a message naming the
  // bucket and cause (wrong credentials, missing bucket, unreachable).
  Status check_bucket();
  // Creates the bucket (test and tooling set-up; the broker never does).
  // Succeeds when the bucket already exists and is ours.
  Status create_bucket();

  Status put(const std::string& key, const SharedBytes& bytes) override;
  Result<SharedBytes> get(const std::string& key, std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> head(const std::string& key) override;
  Result<ListPage> list(const std::string& prefix, const std::string& continuation = {},
                        int max_keys = 1000) override;
  Status remove(const std::string& key) override;
  std::vector<Status> remove_batch(const std::vector<std::string>& keys) override;

  S3Stats stats() const;
  const S3Location& location() const { return where_; }
  // Failing while the last attempt of any kind of operation (GET, PUT,
  // LIST, ...) failed after its retries (outage) or with an error that is
  // not retried (wrong credentials, access denied, missing bucket); a later
  // success of that kind clears it. The reason names the bucket and the
  // server's answer.
  StoreHealth health() const override;

 private:
  S3ObjectStore(S3Location where, S3Options opts);

  struct Call {
    S3Stats::Op op;
    std::string method;
    std::string key;  // full object key (prefix included); empty = the bucket
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;  // extra, signed
    std::string_view body;
    // Checks a 2xx response; a returned message makes it a transient failure.
    std::function<std::optional<std::string>(const s3::HttpResponse&)> validate;
  };
  struct Reply {
    s3::Outcome outcome;  // kOk, kNotFound or kInvalidRange
    s3::HttpResponse resp;
  };
  // Signs, sends and retries. Errors: kErrTransient (retries exhausted) or
  // kErrPermanent.
  Result<Reply> execute(const Call& call);
  s3::HttpRequest build(const Call& call, const std::string& payload_hash) const;
  // validate_key plus S3's 1024-byte limit on prefix + key.
  Status validate(const std::string& key) const;
  std::string full_key(const std::string& key) const;
  Status put_multipart(const std::string& key, const SharedBytes& bytes);
  Status delete_chunk(const std::vector<std::string>& full_keys, std::vector<Status>* out,
                      const std::vector<size_t>& index);
  void record(S3Stats::Op op, const s3::HttpResponse& resp, int64_t micros, size_t bytes_out);
  void note_outcome(S3Stats::Op op, const std::string* failure);

  const S3Location where_;
  const S3Options opts_;
  std::string scheme_;     // "http" or "https"
  std::string authority_;  // endpoint host[:port], default ports stripped
  s3::HttpClient http_;

  std::atomic<uint64_t> requests_[S3Stats::kOpCount][S3Stats::kClassCount] = {};
  std::atomic<uint64_t> retries_{0}, failures_{0}, bytes_out_{0}, bytes_in_{0};
  std::atomic<uint64_t> latency_[S3Stats::kLatencyBuckets] = {};
  mutable std::mutex health_mu_;
  std::string failing_[S3Stats::kOpCount];  // last failure per operation kind; empty = fine
};

}  // namespace carelog::objstore
