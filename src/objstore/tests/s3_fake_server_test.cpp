// The S3 backend against a scripted local HTTP server: retries on 5xx /
// throttling / broken responses, no retries on auth errors, response
// verification (ETag, Content-Range), and parsing of list and batch-delete
// results. Each request gets the next scripted response (the last one
// repeats); every connection is closed after one response.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "fmt/core.h"
#include "objstore/s3_object_store.h"
#include "objstore/s3_sigv4.h"

namespace carelog::objstore {
namespace {

struct Seen {
  std::string request_line;
  std::string headers;  // raw request head, lowercased (names and values)
  std::string body;
};

class FakeS3 {
 public:
  explicit FakeS3(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeS3() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::vector<Seen> seen() {
    std::lock_guard l(mu_);
    return seen_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[65536];
      size_t header_end = std::string::npos;
      size_t need = 0;
      for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
          std::string lower = in.substr(0, header_end);
          for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t cl = lower.find("content-length:");
          need = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
        }
        if (header_end != std::string::npos && in.size() >= header_end + 4 + need) break;
      }
      std::string resp;
      {
        std::lock_guard l(mu_);
        if (header_end != std::string::npos) {
          Seen s;
          s.request_line = in.substr(0, in.find("\r\n"));
          s.headers = in.substr(0, header_end);
          for (auto& ch : s.headers) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          s.body = in.substr(header_end + 4);
          seen_.push_back(std::move(s));
        }
        resp = responses_[std::min(next_++, responses_.size() - 1)];
      }
      (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  }

  std::vector<std::string> responses_;
  size_t next_ = 0;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

std::string http(int status, std::string reason, std::vector<std::string> headers, std::string body) {
  std::string r = fmt::format("HTTP/1.1 {} {}\r\nConnection: close\r\nContent-Length: {}\r\n", status, reason,
                              body.size());
  for (auto& h : headers) r += h + "\r\n";
  return r + "\r\n" + body;
}

std::string s3_error(int status, std::string code) {
  return http(status, "Error", {"Content-Type: application/xml"},
              "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted</Message></Error>");
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string etag_of(std::string_view body) { return "ETag: \"" + s3::to_hex(s3::md5(body)) + "\""; }

std::unique_ptr<S3ObjectStore> open_store(const FakeS3& f, int attempts = 4) {
  S3Options o;
  o.endpoint = f.endpoint();
  o.credentials = {"AKID", "SECRET", "TOKEN"};
  o.region = "us-east-1";
  o.path_style = true;
  o.max_attempts = attempts;
  o.retry_base_ms = 1;
  o.retry_max_ms = 4;
  auto s = S3ObjectStore::open({"bkt", "pre"}, o);
  EXPECT_TRUE(s.ok());
  return std::move(*s);
}

TEST(S3FakeServer, RetriesThrottlingThenSucceedsAndSignsPayload) {
  FakeS3 f(
      {s3_error(503, "SlowDown"), s3_error(500, "InternalError"), http(200, "OK", {etag_of("hello")}, "")});
  auto s = open_store(f);
  auto st = s->put("a b/k", SharedBytes::copy_of("hello"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto seen = f.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2].request_line, "PUT /bkt/pre/a%20b/k HTTP/1.1");
  EXPECT_EQ(seen[2].body, "hello");
  EXPECT_NE(seen[2].headers.find("x-amz-content-sha256: " + s3::sha256_hex("hello")), std::string::npos);
  EXPECT_NE(seen[2].headers.find(lower("content-md5: " + s3::base64(s3::md5("hello")))), std::string::npos);
  EXPECT_NE(seen[2].headers.find("x-amz-security-token: token"), std::string::npos);
  EXPECT_NE(seen[2].headers.find("authorization: aws4-hmac-sha256 credential=akid/"), std::string::npos);
  EXPECT_EQ(seen[2].headers.find("secret"), std::string::npos);
  EXPECT_EQ(seen[2].headers.find("expect:"), std::string::npos);
  auto stats = s->stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.requests[S3Stats::kPut][3], 2u);
  EXPECT_EQ(stats.requests[S3Stats::kPut][0], 1u);
}

TEST(S3FakeServer, AuthErrorsAreNotRetried) {
  FakeS3 f({s3_error(403, "SignatureDoesNotMatch")});
  auto s = open_store(f);
  auto got = s->get("k");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, kErrPermanent);
  EXPECT_NE(got.error().message.find("SignatureDoesNotMatch"), std::string::npos);
  EXPECT_NE(got.error().message.find("s3://bkt/pre/k"), std::string::npos);
  EXPECT_EQ(f.seen().size(), 1u);
}

TEST(S3FakeServer, NoSuchKeyAndNoSuchBucket) {
  {
    FakeS3 f({s3_error(404, "NoSuchKey")});
    EXPECT_EQ(open_store(f)->get("k").error().code, kErrNotFound);
  }
  {
    FakeS3 f({s3_error(404, "NoSuchBucket")});
    auto got = open_store(f)->get("k");
    EXPECT_EQ(got.error().code, kErrPermanent);
    EXPECT_NE(got.error().message.find("bucket 'bkt' does not exist"), std::string::npos);
  }
}

TEST(S3FakeServer, WrongEtagIsRetriedThenTransient) {
  FakeS3 f({http(200, "OK", {etag_of("other")}, "")});
  auto s = open_store(f, 3);
  auto st = s->put("k", SharedBytes::copy_of("hello"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrTransient);
  EXPECT_NE(st.error().message.find("does not match the MD5"), std::string::npos);
  EXPECT_EQ(f.seen().size(), 3u);
}

TEST(S3FakeServer, RangedGetVerifiesContentRange) {
  // First a 206 for the wrong range, then a short body, then the right one.
  FakeS3 f({http(206, "Partial", {"Content-Range: bytes 0-3/100"}, "abcd"),
            http(206, "Partial", {"Content-Range: bytes 10-13/100"}, "ab"),
            http(206, "Partial", {"Content-Range: bytes 10-13/100"}, "wxyz")});
  auto s = open_store(f);
  auto got = s->get("k", ByteRange::at(10, 4));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->view(), "wxyz");
  auto seen = f.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(seen[0].headers.find("range: bytes=10-13"), std::string::npos);
}

TEST(S3FakeServer, TruncatedBodyIsRetried) {
  // Claims 10 bytes, sends 3 and closes: curl reports a partial transfer.
  FakeS3 f({"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nabc",
            http(200, "OK", {}, "0123456789")});
  auto s = open_store(f);
  auto got = s->get("k");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->view(), "0123456789");
  EXPECT_EQ(s->stats().requests[S3Stats::kGet][4], 1u);
}

TEST(S3FakeServer, ListParsesPagesAndStripsPrefix) {
  std::string page =
      "<?xml "
      "version=\"1.0\"?><ListBucketResult><Name>bkt</Name><Prefix>pre%2Fa</Prefix><KeyCount>2</KeyCount>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=</NextContinuationToken>"
      "<Contents><Key>pre/a%20b</Key><LastModified>2024-01-02T03:04:05.250Z</LastModified>"
      "<ETag>&quot;e1&quot;</ETag><Size>12</Size></Contents>"
      "<Contents><Key>pre/a/c</Key><ETag>\"e2\"</ETag><Size>0</Size></Contents></ListBucketResult>";
  FakeS3 f({http(200, "OK", {}, page)});
  auto s = open_store(f);
  auto r = s->list("a", "prev token", 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].key, "a b");
  EXPECT_EQ(r->objects[0].size, 12u);
  EXPECT_EQ(r->objects[0].etag, "e1");
  EXPECT_EQ(r->objects[0].mtime_ms, 1704164645250);
  EXPECT_EQ(r->objects[1].key, "a/c");
  EXPECT_EQ(r->next_continuation, "tok/1=");
  auto seen = f.seen();
  EXPECT_NE(seen[0].request_line.find("continuation-token=prev%20token"), std::string::npos);
  EXPECT_NE(seen[0].request_line.find("prefix=pre%2Fa"), std::string::npos);
  EXPECT_NE(seen[0].request_line.find("max-keys=2"), std::string::npos);
}

TEST(S3FakeServer, ListRejectsKeysOutsideThePrefix) {
  FakeS3 f(
      {http(200, "OK", {},
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>elsewhere/x</Key><Size>1</Size>"
            "</Contents></ListBucketResult>")});
  auto r = open_store(f)->list("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kErrCorrupt);
}

TEST(S3FakeServer, DeleteBatchReportsPerKeyErrors) {
  FakeS3 f(
      {http(200, "OK", {},
            "<DeleteResult><Error><Key>pre/m/2</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
            "<Error><Key>pre/m/3</Key><Code>InternalError</Code></Error></DeleteResult>")});
  auto s = open_store(f);
  auto r = s->remove_batch({"m/1", "m/2", "bad/../x", "m/3"});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].ok());
  ASSERT_FALSE(r[1].ok());
  EXPECT_EQ(r[1].error().code, kErrPermanent);
  EXPECT_NE(r[1].error().message.find("AccessDenied"), std::string::npos);
  EXPECT_EQ(r[2].error().code, kErrInvalidArgument);
  EXPECT_EQ(r[3].error().code, kErrTransient);
  auto seen = f.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_line, "POST /bkt?delete= HTTP/1.1");
  EXPECT_NE(seen[0].headers.find(lower("content-md5: " + s3::base64(s3::md5(seen[0].body)))),
            std::string::npos);
  EXPECT_NE(seen[0].body.find("<Key>pre/m/1</Key>"), std::string::npos);
  EXPECT_EQ(seen[0].body.find("bad"), std::string::npos);
}

TEST(S3FakeServer, MultipartAbortsOnFailure) {
  std::string part(5 << 20, 'p');
  FakeS3 f({http(200, "OK", {},
                 "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
                 "</InitiateMultipartUploadResult>"),
            http(200, "OK", {etag_of(part)}, ""), s3_error(400, "EntityTooSmall"),
            http(204, "No Content", {}, "")});
  S3Options o;
  o.endpoint = f.endpoint();
  o.credentials = {"AKID", "SECRET", ""};
  o.path_style = true;
  o.max_attempts = 2;
  o.retry_base_ms = 1;
  o.multipart_threshold_bytes = 5 << 20;
  o.multipart_part_bytes = 5 << 20;
  auto s = S3ObjectStore::open({"bkt", ""}, o);
  ASSERT_TRUE(s.ok());
  auto st = (*s)->put("big", SharedBytes::copy_of(part + "tail"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, kErrPermanent);
  EXPECT_NE(st.error().message.find("EntityTooSmall"), std::string::npos);
  auto seen = f.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].request_line, "POST /bkt/big?uploads= HTTP/1.1");
  EXPECT_EQ(seen[1].request_line, "PUT /bkt/big?partNumber=1&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(seen[2].request_line, "PUT /bkt/big?partNumber=2&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(seen[2].body, "tail");
  EXPECT_EQ(seen[3].request_line, "DELETE /bkt/big?uploadId=up-1 HTTP/1.1");
}

}  // namespace
}  // namespace carelog::objstore
