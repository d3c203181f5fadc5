#include "objstore/s3_object_store.h"

#include <time.h>

#include <chrono>
#include <random>
#include <thread>

#include "common/log.h"
#include "fmt/core.h"
#include "objstore/s3_sigv4.h"
#include "objstore/s3_xml.h"

namespace carelog::objstore {
namespace {

using s3::HttpResponse;
using s3::Outcome;

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// "Wed, 12 Oct 2009 17:50:00 GMT" (HTTP) or "2009-10-12T17:50:30.000Z"
// (ISO 8601, in listings) -> ms since epoch; 0 when unparseable.
int64_t parse_time_ms(const std::string& s, bool iso) {
  struct tm tm = {};
  const char* end = strptime(s.c_str(), iso ? "%Y-%m-%dT%H:%M:%S" : "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return 0;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (iso && *end == '.') {
    int64_t frac = 0, scale = 100;
    for (++end; *end >= '0' && *end <= '9'; ++end, scale /= 10) frac += (*end - '0') * scale;
    ms += frac;
  }
  return ms;
}

// "bytes 100-149/10000" -> {first, last, total}.
bool parse_content_range(std::string_view v, uint64_t* first, uint64_t* last, uint64_t* total) {
  if (v.rfind("bytes ", 0) != 0) return false;
  v.remove_prefix(6);
  size_t dash = v.find('-'), slash = v.find('/');
  if (dash == v.npos || slash == v.npos || slash < dash) return false;
  auto a = parse_u64(v.substr(0, dash)), b = parse_u64(v.substr(dash + 1, slash - dash - 1)),
       t = parse_u64(v.substr(slash + 1));
  if (!a || !b || !t || *a > *b) return false;
  *first = *a;
  *last = *b;
  *total = *t;
  return true;
}

bool xml_safe(std::string_view key) {
  for (unsigned char c : key)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

double random01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// The md5 check: a single-part PUT's ETag is the hex MD5 of the body.
std::optional<std::string> check_etag(const HttpResponse& r, const std::string& md5_raw) {
  auto etag = r.header("etag");
  if (!etag) return "response has no ETag";
  if (!iequals(strip_quotes(*etag), s3::to_hex(md5_raw)))
    return fmt::format("ETag {} does not match the MD5 of the sent bytes", *etag);
  return std::nullopt;
}

}  // namespace

const char* S3Stats::op_name(int op) {
  static constexpr const char* kNames[] = {"get",    "put",          "head",      "list",
                                           "delete", "delete_batch", "multipart", "bucket"};
  return op >= 0 && op < kOpCount ? kNames[op] : "unknown";
}

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::open(const S3Location& where, S3Options opts) {
  auto resolved = resolve_s3_options(std::move(opts));
  if (!resolved.ok()) return resolved.take_error();
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(where, std::move(*resolved)));
}

S3ObjectStore::S3ObjectStore(S3Location where, S3Options opts)
    : where_(std::move(where)), opts_(std::move(opts)), http_(opts_) {
  size_t sep = opts_.endpoint.find("://");
  scheme_ = opts_.endpoint.substr(0, sep);
  authority_ = opts_.endpoint.substr(sep + 3);
  if (size_t slash = authority_.find('/'); slash != std::string::npos) authority_.resize(slash);
  // Host as curl sends it: default ports are omitted, so sign it that way.
  std::string def = scheme_ == "https" ? ":443" : ":80";
  if (authority_.size() > def.size() &&
      authority_.compare(authority_.size() - def.size(), def.size(), def) == 0)
    authority_.resize(authority_.size() - def.size());
}

Status S3ObjectStore::validate(const std::string& key) const {
  CARELOG_RETURN_IF_ERROR(validate_key(key));
  // S3 limits whole keys to 1024 bytes; the bucket prefix eats into that.
  if (!where_.prefix.empty() && key.size() + where_.prefix.size() + 1 > 1024)
    return Error{
        kErrInvalidArgument,
        fmt::format("object key of {} bytes is too long under prefix '{}' (S3 allows 1024 bytes in all)",
                    key.size(), where_.prefix)};
  return Status::OK();
}

Status S3ObjectStore::create_bucket() {
  std::string body;
  if (opts_.region != "us-east-1")
    body = "<CreateBucketConfiguration><LocationConstraint>" + s3::xml::escape(opts_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
  Call c{S3Stats::kBucket, "PUT", "", {}, {}, body, {}};
  auto r = execute(c);
  if (r.ok()) return Status::OK();
  // Creating a bucket we already own is success (idempotent set-up).
  if (r.error().message.find("BucketAlreadyOwnedByYou") != std::string::npos) return Status::OK();
  return r.take_error();
}

std::string S3ObjectStore::full_key(const std::string& key) const {
  return where_.prefix.empty() ? key : where_.prefix + "/" + key;
}

s3::HttpRequest S3ObjectStore::build(const Call& call, const std::string& payload_hash) const {
  std::string host = opts_.path_style ? authority_ : where_.bucket + "." + authority_;
  std::string path = opts_.path_style ? "/" + where_.bucket : "";
  if (!call.key.empty()) path += "/" + s3::uri_encode(call.key, true);
  if (path.empty()) path = "/";
  std::string date = s3::amz_date_now();

  s3::SigningInput in;
  in.method = call.method;
  in.canonical_uri = path;
  in.query = call.query;
  in.payload_hash = payload_hash;
  in.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload_hash}};
  if (!opts_.credentials.session_token.empty())
    in.headers.emplace_back("x-amz-security-token", opts_.credentials.session_token);
  for (const auto& h : call.headers) in.headers.push_back(h);
  auto sig = s3::sign_v4(in, opts_.credentials, opts_.region, "s3", date);

  s3::HttpRequest req;
  req.method = call.method;
  std::string q = s3::canonical_query(call.query);
  req.url = scheme_ + "://" + host + path + (q.empty() ? "" : "?" + q);
  req.headers = std::move(in.headers);
  req.headers.emplace_back("authorization", std::move(sig.authorization));
  req.body = call.body;
  return req;
}

void S3ObjectStore::record(S3Stats::Op op, const HttpResponse& resp, int64_t micros, size_t sent) {
  int cls = resp.status == 0 ? 4 : std::clamp(resp.status / 100 - 2, 0, 3);
  requests_[op][cls].fetch_add(1, std::memory_order_relaxed);
  bytes_out_.fetch_add(sent, std::memory_order_relaxed);
  bytes_in_.fetch_add(resp.body.size(), std::memory_order_relaxed);
  size_t b = 0;
  while (b < S3Stats::kLatencyBoundsMs.size() && micros > int64_t{S3Stats::kLatencyBoundsMs[b]} * 1000) ++b;
  latency_[b].fetch_add(1, std::memory_order_relaxed);
}

Result<S3ObjectStore::Reply> S3ObjectStore::execute(const Call& call) {
  // Hashing the payload once; the signature (date) is redone per attempt.
  std::string payload_hash = s3::sha256_hex(call.body);
  std::string what = fmt::format("S3 {} s3://{}/{}", S3Stats::op_name(call.op), where_.bucket, call.key);
  std::string last_problem;
  for (int attempt = 1;; ++attempt) {
    s3::HttpRequest req = build(call, payload_hash);
    auto t0 = std::chrono::steady_clock::now();
    HttpResponse resp = http_.perform(req);
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    record(call.op, resp, micros, resp.status ? call.body.size() : 0);

    std::string code, message;
    if (resp.status >= 300 && !resp.body.empty()) {
      code = s3::xml::first_text(resp.body_view(), "Code").value_or("");
      message = s3::xml::first_text(resp.body_view(), "Message").value_or("");
    }
    Outcome outcome = s3::classify(resp.status, code, resp.curl_code);
    if (outcome == Outcome::kOk && call.validate) {
      if (auto bad = call.validate(resp)) {
        outcome = Outcome::kRetry;
        code = "InvalidResponse";
        message = *bad;
      }
    }
    if (outcome == Outcome::kOk || outcome == Outcome::kNotFound || outcome == Outcome::kInvalidRange) {
      note_outcome(call.op, nullptr);
      return Reply{outcome, std::move(resp)};
    }

    if (resp.status == 0) {
      last_problem = fmt::format("transport error: {}", resp.transport_error);
    } else {
      last_problem = fmt::format("HTTP {}{}{}{}", resp.status, code.empty() ? "" : " " + code,
                                 message.empty() ? "" : ": ", message);
    }
    if (outcome == Outcome::kRetry && attempt < opts_.max_attempts) {
      retries_.fetch_add(1, std::memory_order_relaxed);
      int wait = s3::backoff_ms(attempt, opts_.retry_base_ms, opts_.retry_max_ms, random01());
      log::debug("{}: {} (attempt {}), retrying in {} ms", what, last_problem, attempt, wait);
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      continue;
    }
    failures_.fetch_add(1, std::memory_order_relaxed);
    std::string hint;
    if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "AccessDenied")
      hint = " (check s3.access.key.id / s3.secret.access.key and the bucket policy)";
    else if (code == "NoSuchBucket")
      hint = fmt::format(" (bucket '{}' does not exist at {})", where_.bucket, opts_.endpoint);
    else if (code == "RequestTimeTooSkewed")
      hint = " (the broker's clock is off)";
    Error error =
        outcome == Outcome::kRetry
            ? Error{kErrTransient, fmt::format("{}: {} after {} attempts", what, last_problem, attempt)}
            : Error{kErrPermanent, fmt::format("{}: {}{}", what, last_problem, hint)};
    note_outcome(call.op, &error.message);
    return error;
  }
}

void S3ObjectStore::note_outcome(S3Stats::Op op, const std::string* failure) {
  std::lock_guard lk(health_mu_);
  if (failure) {
    failing_[op] = *failure;
  } else if (!failing_[op].empty()) {
    failing_[op].clear();
  }
}

StoreHealth S3ObjectStore::health() const {
  StoreHealth h;
  h.target = fmt::format("s3://{}/{} at {}", where_.bucket, where_.prefix, opts_.endpoint);
  std::lock_guard lk(health_mu_);
  for (int op = 0; op < S3Stats::kOpCount; ++op) {
    if (failing_[op].empty()) continue;
    h.ok = false;
    if (!h.reason.empty()) h.reason += "; ";
    h.reason += failing_[op];
  }
  return h;
}

Status S3ObjectStore::check_bucket() {
  Call c{S3Stats::kList, "GET", "", {{"list-type", "2"}, {"max-keys", "1"}}, {}, {}, {}};
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  if (r->outcome != Outcome::kOk)
    return Error{kErrPermanent,
                 fmt::format("S3 bucket '{}' at {}: not found", where_.bucket, opts_.endpoint)};
  return Status::OK();
}

Status S3ObjectStore::put(const std::string& key, const SharedBytes& bytes) {
  CARELOG_RETURN_IF_ERROR(validate(key));
  if (bytes.size() >= opts_.multipart_threshold_bytes) return put_multipart(key, bytes);
  std::string md5 = s3::md5(bytes.view());
  Call c{S3Stats::kPut, "PUT", full_key(key), {}, {{"content-md5", s3::base64(md5)}}, bytes.view(), {}};
  if (opts_.verify_etag) c.validate = [&md5](const HttpResponse& r) { return check_etag(r, md5); };
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  if (r->outcome != Outcome::kOk)
    return Error{kErrPermanent, fmt::format("S3 put s3://{}/{}: unexpected 404", where_.bucket, c.key)};
  return Status::OK();
}

Status S3ObjectStore::put_multipart(const std::string& key, const SharedBytes& bytes) {
  std::string fk = full_key(key);
  std::string what = fmt::format("S3 multipart upload s3://{}/{}", where_.bucket, fk);
  Call create{S3Stats::kMultipart, "POST", fk, {{"uploads", ""}}, {}, {}, {}};
  create.validate = [](const HttpResponse& r) -> std::optional<std::string> {
    if (!s3::xml::first_text(r.body_view(), "UploadId"))
      return "CreateMultipartUpload response has no UploadId";
    return std::nullopt;
  };
  auto created = execute(create);
  if (!created.ok()) return created.take_error();
  if (created->outcome != Outcome::kOk) return Error{kErrPermanent, what + ": unexpected 404 on create"};
  std::string upload_id = *s3::xml::first_text(created->resp.body_view(), "UploadId");

  auto abort = [&](Error e) -> Status {
    Call a{S3Stats::kMultipart, "DELETE", fk, {{"uploadId", upload_id}}, {}, {}, {}};
    auto r = execute(a);
    if (!r.ok()) log::warn("{}: abort failed: {}", what, r.error().message);
    return e;
  };

  std::string complete = "<CompleteMultipartUpload>";
  const uint64_t part = opts_.multipart_part_bytes;
  int number = 1;
  for (uint64_t off = 0; off < bytes.size(); off += part, ++number) {
    std::string_view body = bytes.view().substr(off, part);
    std::string md5 = s3::md5(body);
    Call up{S3Stats::kMultipart,
            "PUT",
            fk,
            {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
            {{"content-md5", s3::base64(md5)}},
            body,
            {}};
    if (opts_.verify_etag) up.validate = [&md5](const HttpResponse& r) { return check_etag(r, md5); };
    auto r = execute(up);
    if (!r.ok()) return abort(r.take_error());
    if (r->outcome != Outcome::kOk) return abort(Error{kErrPermanent, what + ": upload vanished (404)"});
    std::string etag = r->resp.header("etag").value_or("\"" + s3::to_hex(md5) + "\"");
    complete +=
        fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number, s3::xml::escape(etag));
  }
  complete += "</CompleteMultipartUpload>";
  Call done{S3Stats::kMultipart,
            "POST",
            fk,
            {{"uploadId", upload_id}},
            {{"content-type", "application/xml"}},
            complete,
            {}};
  // S3 may answer 200 and report the failure in the body.
  done.validate = [](const HttpResponse& r) -> std::optional<std::string> {
    if (s3::xml::first(r.body_view(), "Error"))
      return "CompleteMultipartUpload failed: " +
             s3::xml::first_text(r.body_view(), "Code").value_or("unknown error");
    if (!s3::xml::first(r.body_view(), "CompleteMultipartUploadResult"))
      return "CompleteMultipartUpload response is not a result document";
    return std::nullopt;
  };
  auto r = execute(done);
  if (!r.ok()) return abort(r.take_error());
  if (r->outcome != Outcome::kOk) return abort(Error{kErrPermanent, what + ": upload vanished (404)"});
  return Status::OK();
}

Result<SharedBytes> S3ObjectStore::get(const std::string& key, std::optional<ByteRange> range) {
  CARELOG_RETURN_IF_ERROR(validate(key));
  std::string fk = full_key(key);
  auto not_found = [&] {
    return Error{kErrNotFound, fmt::format("S3 get s3://{}/{}: no such key", where_.bucket, fk)};
  };
  // Resolves requests HTTP ranges cannot express (empty ranges) or that S3
  // answers with 416 (a range starting at or past the end) using the size.
  auto empty_or_past_end = [&]() -> Result<SharedBytes> {
    auto info = head(key);
    if (!info.ok()) return info.take_error();
    if (range->suffix || range->offset <= info->size) return SharedBytes();
    return Error{kErrInvalidArgument,
                 fmt::format("S3 get s3://{}/{}: range starts at {} past the end ({} bytes)", where_.bucket,
                             fk, range->offset, info->size)};
  };
  if (range && range->length == 0) return empty_or_past_end();

  Call c{S3Stats::kGet, "GET", fk, {}, {}, {}, {}};
  if (range) {
    c.headers.emplace_back("range", range->suffix ? fmt::format("bytes=-{}", range->length)
                                                  : fmt::format("bytes={}-{}", range->offset,
                                                                range->offset + range->length - 1));
  }
  const std::optional<ByteRange> want = range;
  c.validate = [want](const HttpResponse& r) -> std::optional<std::string> {
    auto len = r.header("content-length");
    if (!len || parse_u64(*len) != r.body.size()) return "body length differs from Content-Length";
    if (r.status == 206) {
      uint64_t first, last, total;
      auto cr = r.header("content-range");
      if (!want || !cr || !parse_content_range(*cr, &first, &last, &total))
        return "206 response without a valid Content-Range";
      uint64_t expect_first = want->suffix ? total - std::min(want->length, total) : want->offset;
      uint64_t expect_len = want->suffix ? std::min(want->length, total)
                                         : std::min(want->length, total - std::min(total, want->offset));
      if (first != expect_first || last - first + 1 != expect_len || r.body.size() != expect_len)
        return fmt::format("Content-Range {} does not match the requested range", *cr);
    }
    return std::nullopt;
  };
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  if (r->outcome == Outcome::kNotFound) return not_found();
  if (r->outcome == Outcome::kInvalidRange) return empty_or_past_end();
  SharedBytes body = SharedBytes::from_vector(std::move(r->resp.body));
  if (range && r->resp.status == 200) {
    // The server ignored the Range header and sent the whole object.
    uint64_t size = body.size();
    if (range->suffix) {
      uint64_t n = std::min<uint64_t>(range->length, size);
      return body.slice(size - n, n);
    }
    if (range->offset > size)
      return Error{kErrInvalidArgument,
                   fmt::format("S3 get s3://{}/{}: range starts past the end", where_.bucket, fk)};
    return body.slice(range->offset, std::min<uint64_t>(range->length, size - range->offset));
  }
  return body;
}

Result<ObjectInfo> S3ObjectStore::head(const std::string& key) {
  CARELOG_RETURN_IF_ERROR(validate(key));
  Call c{S3Stats::kHead, "HEAD", full_key(key), {}, {}, {}, {}};
  c.validate = [](const HttpResponse& r) -> std::optional<std::string> {
    auto len = r.header("content-length");
    if (!len || !parse_u64(*len)) return "HEAD response without Content-Length";
    return std::nullopt;
  };
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  if (r->outcome != Outcome::kOk)
    return Error{kErrNotFound, fmt::format("S3 head s3://{}/{}: no such key", where_.bucket, c.key)};
  ObjectInfo info;
  info.key = key;
  info.size = *parse_u64(*r->resp.header("content-length"));
  info.etag = strip_quotes(r->resp.header("etag").value_or(""));
  info.mtime_ms = parse_time_ms(r->resp.header("last-modified").value_or(""), false);
  return info;
}

Result<ListPage> S3ObjectStore::list(const std::string& prefix, const std::string& continuation,
                                     int max_keys) {
  max_keys = std::clamp(max_keys, 1, 1000);
  std::string full_prefix = where_.prefix.empty() ? prefix : where_.prefix + "/" + prefix;
  std::string strip = where_.prefix.empty() ? "" : where_.prefix + "/";
  Call c{S3Stats::kList,
         "GET",
         "",
         {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"encoding-type", "url"}},
         {},
         {},
         {}};
  if (!full_prefix.empty()) c.query.emplace_back("prefix", full_prefix);
  if (!continuation.empty()) c.query.emplace_back("continuation-token", continuation);
  c.validate = [](const HttpResponse& r) -> std::optional<std::string> {
    if (!s3::xml::first(r.body_view(), "ListBucketResult")) return "not a ListBucketResult document";
    return std::nullopt;
  };
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  if (r->outcome != Outcome::kOk)
    return Error{kErrPermanent, fmt::format("S3 list s3://{}: bucket not found", where_.bucket)};

  std::string_view doc = r->resp.body_view();
  auto bad = [&](std::string why) {
    return Error{kErrCorrupt,
                 fmt::format("S3 list s3://{}/{}: bad response: {}", where_.bucket, full_prefix, why)};
  };
  ListPage page;
  for (std::string_view entry : s3::xml::elements(doc, "Contents")) {
    auto raw_key = s3::xml::first_text(entry, "Key");
    auto size = s3::xml::first_text(entry, "Size");
    std::string key;
    if (!raw_key || !s3::uri_decode(*raw_key, &key)) return bad("entry without a valid Key");
    if (!size || !parse_u64(*size)) return bad("entry without a valid Size");
    if (key.rfind(full_prefix, 0) != 0 || key.size() < strip.size()) return bad("key outside the prefix");
    ObjectInfo info;
    info.key = key.substr(strip.size());
    info.size = *parse_u64(*size);
    info.etag = strip_quotes(s3::xml::first_text(entry, "ETag").value_or(""));
    info.mtime_ms = parse_time_ms(s3::xml::first_text(entry, "LastModified").value_or(""), true);
    page.objects.push_back(std::move(info));
  }
  if (page.objects.size() > static_cast<size_t>(max_keys)) return bad("more keys than max-keys");
  if (s3::xml::first_text(doc, "IsTruncated").value_or("false") == "true") {
    auto next = s3::xml::first_text(doc, "NextContinuationToken");
    if (!next || next->empty()) return bad("truncated listing without NextContinuationToken");
    page.next_continuation = std::move(*next);
  }
  return page;
}

Status S3ObjectStore::remove(const std::string& key) {
  CARELOG_RETURN_IF_ERROR(validate(key));
  Call c{S3Stats::kDelete, "DELETE", full_key(key), {}, {}, {}, {}};
  auto r = execute(c);
  if (!r.ok()) return r.take_error();
  return Status::OK();  // a 404 means already gone: deletes are idempotent
}

std::vector<Status> S3ObjectStore::remove_batch(const std::vector<std::string>& keys) {
  std::vector<Status> out(keys.size());
  std::vector<std::string> chunk;
  std::vector<size_t> index;
  auto flush = [&] {
    if (chunk.empty()) return;
    (void)delete_chunk(chunk, &out, index);
    chunk.clear();
    index.clear();
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    if (Status st = validate(keys[i]); !st.ok()) {
      out[i] = st;
    } else if (!xml_safe(keys[i])) {
      out[i] = remove(keys[i]);  // not representable in the XML request body
    } else {
      chunk.push_back(full_key(keys[i]));
      index.push_back(i);
      if (chunk.size() == 1000) flush();  // the DeleteObjects limit
    }
  }
  flush();
  return out;
}

Status S3ObjectStore::delete_chunk(const std::vector<std::string>& full_keys, std::vector<Status>* out,
                                   const std::vector<size_t>& index) {
  std::string body = "<Delete><Quiet>true</Quiet>";
  for (const auto& k : full_keys) body += "<Object><Key>" + s3::xml::escape(k) + "</Key></Object>";
  body += "</Delete>";
  Call c{S3Stats::kDeleteBatch,
         "POST",
         "",
         {{"delete", ""}},
         {{"content-md5", s3::base64(s3::md5(body))}, {"content-type", "application/xml"}},
         body,
         {}};
  c.validate = [](const HttpResponse& r) -> std::optional<std::string> {
    if (!s3::xml::first(r.body_view(), "DeleteResult")) return "not a DeleteResult document";
    return std::nullopt;
  };
  auto r = execute(c);
  Status whole = Status::OK();
  if (!r.ok()) {
    whole = r.take_error();
  } else if (r->outcome != Outcome::kOk) {
    whole = Error{kErrPermanent, fmt::format("S3 delete_batch s3://{}: bucket not found", where_.bucket)};
  }
  if (!whole.ok()) {
    for (size_t i : index) (*out)[i] = whole;
    return whole;
  }
  for (size_t i : index) (*out)[i] = Status::OK();
  // Quiet mode: only failed keys are listed.
  for (std::string_view err : s3::xml::elements(r->resp.body_view(), "Error")) {
    auto key = s3::xml::first_text(err, "Key");
    std::string code = s3::xml::first_text(err, "Code").value_or("unknown");
    std::string msg = s3::xml::first_text(err, "Message").value_or("");
    if (!key) continue;
    if (code == "NoSuchKey") continue;  // already gone counts as deleted
    for (size_t j = 0; j < full_keys.size(); ++j) {
      if (full_keys[j] != *key) continue;
      bool transient = code == "InternalError" || code == "SlowDown" || code == "ServiceUnavailable";
      (*out)[index[j]] = Error{transient ? kErrTransient : kErrPermanent,
                               fmt::format("S3 delete s3://{}/{}: {}{}{}", where_.bucket, *key, code,
                                           msg.empty() ? "" : ": ", msg)};
    }
  }
  return Status::OK();
}

S3Stats S3ObjectStore::stats() const {
  S3Stats s;
  for (int op = 0; op < S3Stats::kOpCount; ++op)
    for (int c = 0; c < S3Stats::kClassCount; ++c) s.requests[op][c] = requests_[op][c].load();
  s.retries = retries_.load();
  s.failures = failures_.load();
  s.bytes_out = bytes_out_.load();
  s.bytes_in = bytes_in_.load();
  for (int b = 0; b < S3Stats::kLatencyBuckets; ++b) s.latency[b] = latency_[b].load();
  return s;
}

}  // namespace carelog::objstore
