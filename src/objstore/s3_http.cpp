#include "objstore/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace carelog::objstore::s3 {
namespace {

std::once_flag g_curl_init;

struct Transfer {
  std::string_view upload;
  size_t upload_pos = 0;
  HttpResponse* resp = nullptr;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->resp->body.insert(t->resp->body.end(), data, data + size * n);
  return size * n;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t k = std::min(size * n, t->upload.size() - t->upload_pos);
  std::copy_n(t->upload.data() + t->upload_pos, k, buf);
  t->upload_pos += k;
  return k;
}

// curl rewinds the upload when it must resend (redirect, auth retry, reused
// connection that turned out dead).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->upload.size())
    return CURL_SEEKFUNC_FAIL;
  t->upload_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (e.g. after 100 Continue): drop earlier headers.
    t->resp->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view v = line.substr(colon + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  if (name == "content-length") {
    // Pre-size the body buffer, bounded so a lying server cannot make us
    // allocate absurd amounts up front.
    uint64_t len = 0;
    for (char c : v) {
      if (c < '0' || c > '9' || len > (1ull << 40)) break;
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    t->resp->body.reserve(static_cast<size_t>(std::min<uint64_t>(len, 256ull << 20)));
  }
  t->resp->headers.emplace_back(std::move(name), std::string(v));
  return size * n;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return std::nullopt;
}

HttpClient::HttpClient(const S3Options& opts) : opts_(opts) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < opts_.max_connections; });
  ++in_flight_;
  if (!idle_.empty()) {
    void* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  return curl_easy_init();
}

void HttpClient::release(void* handle) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (handle) idle_.push_back(handle);
  }
  cv_.notify_one();
}

HttpResponse HttpClient::perform(const HttpRequest& req) {
  HttpResponse resp;
  CURL* h = static_cast<CURL*>(acquire());
  if (!h) {
    release(nullptr);
    resp.curl_code = CURLE_FAILED_INIT;
    resp.transport_error = "curl_easy_init failed";
    return resp;
  }
  // reset() clears options but keeps the live connection and caches.
  curl_easy_reset(h);
  Transfer t;
  t.upload = req.body;
  t.resp = &resp;
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_slist* hdrs = nullptr;
  for (const auto& [k, v] : req.headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
  // No "Expect: 100-continue" round trip, and no headers curl would add that
  // we did not sign and do not need.
  hdrs = curl_slist_append(hdrs, "Expect:");
  hdrs = curl_slist_append(hdrs, "Accept:");
  if (req.method == "POST" && !std::any_of(req.headers.begin(), req.headers.end(),
                                           [](const auto& kv) { return kv.first == "content-type"; }))
    hdrs = curl_slist_append(hdrs, "Content-Type:");

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts_.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(opts_.stall_timeout_ms / 1000)));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts_.verify_tls ? 2L : 0L);
  if (!opts_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opts_.ca_file.c_str());

  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  resp.curl_code = rc;
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp.status = static_cast<int>(status);
  } else {
    resp.transport_error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    // The connection may be in an unknown state: do not reuse this handle.
    curl_easy_cleanup(h);
    h = nullptr;
  }
  release(h);
  return resp;
}

Outcome classify(int status, std::string_view code, int curl_code) {
  if (curl_code != CURLE_OK) {
    switch (curl_code) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
      case CURLE_FAILED_INIT:
        return Outcome::kPermanent;
      default:
        // Connect failures, timeouts, resets, partial bodies, DNS.
        return Outcome::kRetry;
    }
  }
  if (status >= 200 && status < 300) return Outcome::kOk;
  if (status == 416) return Outcome::kInvalidRange;
  if (status >= 500 || status == 429 || status == 408) return Outcome::kRetry;
  // S3 reports some throttling and idle-socket timeouts as 400/403.
  if (code == "SlowDown" || code == "RequestTimeout" || code == "Throttling" ||
      code == "ThrottlingException" || code == "RequestLimitExceeded" || code == "InternalError" ||
      code == "ServiceUnavailable")
    return Outcome::kRetry;
  if (status == 404) {
    if (code.empty() || code == "NoSuchKey") return Outcome::kNotFound;
    return Outcome::kPermanent;  // NoSuchBucket, NoSuchUpload, ...
  }
  return Outcome::kPermanent;
}

int backoff_ms(int attempt, int base_ms, int max_ms, double random01) {
  double cap = base_ms;
  for (int i = 1; i < attempt && cap < max_ms; ++i) cap *= 2;
  if (cap > max_ms) cap = max_ms;
  return static_cast<int>(cap * random01);
}

}  // namespace carelog::objstore::s3
