// S3 HTTP transport on libcurl: a bounded pool of easy handles (each keeps
// its connection alive between requests), plus the classification of
// responses into retry / not-found / permanent outcomes.
//
// Threading: HttpClient is thread-safe. perform() blocks while
// max_connections requests are already in flight, which bounds both the
// sockets and the memory used for bodies. Handles are owned by the pool and
// lent to one request at a time.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "objstore/s3_options.h"

namespace carelog::objstore::s3 {

struct HttpRequest {
  std::string method;  // GET PUT POST HEAD DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string_view body;                                     // PUT/POST payload; must outlive perform()
};

struct HttpResponse {
  int status = 0;     // HTTP status; 0 when the transport failed
  int curl_code = 0;  // CURLcode; 0 = OK
  std::string transport_error;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::vector<uint8_t> body;

  std::optional<std::string> header(std::string_view lower_name) const;
  std::string_view body_view() const { return {reinterpret_cast<const char*>(body.data()), body.size()}; }
};

class HttpClient {
 public:
  explicit HttpClient(const S3Options& opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse perform(const HttpRequest& req);

 private:
  void* acquire();  // CURL*
  void release(void* handle);

  const S3Options opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<void*> idle_;  // guarded by mu_
  int in_flight_ = 0;        // guarded by mu_
};

// What to do with a response.
enum class Outcome {
  kOk,
  kRetry,         // transient: 5xx, throttling, timeouts, resets
  kNotFound,      // 404 NoSuchKey (or a 404 HEAD, which has no body)
  kInvalidRange,  // 416
  kPermanent,     // auth, missing bucket, other 4xx, TLS verification
};
// s3_code: the <Code> of an S3 error body ("" when none).
Outcome classify(int http_status, std::string_view s3_code, int curl_code);

// Backoff before retry `attempt` (1 = first retry): uniform in
// [0, min(max_ms, base_ms * 2^(attempt-1))] ("full jitter"). `random01` in [0,1).
int backoff_ms(int attempt, int base_ms, int max_ms, double random01);

}  // namespace carelog::objstore::s3
