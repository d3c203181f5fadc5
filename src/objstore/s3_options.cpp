#include "objstore/s3_options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fmt/core.h"
#include "objstore/object_store.h"

namespace carelog::objstore {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  return b.front() != '-' && b.front() != '.' && b.back() != '-' && b.back() != '.';
}

}  // namespace

s3::Credentials parse_credentials_file(std::string_view text, std::string_view profile) {
  s3::Credentials c;
  bool in_profile = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = trim(text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = trim(line.substr(1, line.size() - 2)) == profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.access_key_id = v;
    if (k == "aws_secret_access_key") c.secret_access_key = v;
    if (k == "aws_session_token") c.session_token = v;
  }
  return c;
}

Result<S3Options> resolve_s3_options(S3Options o) {
  if (o.region.empty()) o.region = env("AWS_REGION");
  if (o.region.empty()) o.region = env("AWS_DEFAULT_REGION");
  if (o.region.empty()) o.region = "us-east-1";
  if (o.endpoint.empty()) o.endpoint = "https://s3." + o.region + ".amazonaws.com";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0)
    return Error{kErrInvalidArgument,
                 fmt::format("s3.endpoint '{}' must start with http:// or https://", o.endpoint)};
  if (o.max_connections < 1) o.max_connections = 1;
  if (o.max_attempts < 1) o.max_attempts = 1;
  if (o.multipart_part_bytes < (5ull << 20)) o.multipart_part_bytes = 5ull << 20;
  if (o.multipart_threshold_bytes < o.multipart_part_bytes)
    o.multipart_threshold_bytes = o.multipart_part_bytes;

  std::string source = "s3.access.key.id / s3.secret.access.key";
  if (o.credentials.empty()) {
    o.credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
    source = "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY";
  }
  if (o.credentials.empty()) {
    std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
    if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
    std::string profile = env("AWS_PROFILE");
    if (profile.empty()) profile = "default";
    source = fmt::format("profile '{}' in {}", profile, file);
    std::ifstream in(file);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      o.credentials = parse_credentials_file(ss.str(), profile);
    }
  }
  if (o.credentials.empty())
    return Error{kErrPermanent,
                 fmt::format("no S3 credentials: set s3.access.key.id and s3.secret.access.key, the "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, or a "
                             "credentials file (last tried: {})",
                             source)};
  return o;
}

Result<S3Location> parse_s3_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.rfind(kScheme, 0) != 0)
    return Error{kErrInvalidArgument, fmt::format("'{}' is not an s3:// URI", uri)};
  std::string_view rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  if (!valid_bucket(loc.bucket))
    return Error{kErrInvalidArgument,
                 fmt::format("object.store '{}': '{}' is not a valid bucket name (3-63 characters of "
                             "a-z 0-9 . -)",
                             uri, loc.bucket)};
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash + 1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    loc.prefix = p;
    if (!loc.prefix.empty()) {
      Status st = validate_key(loc.prefix);
      if (!st.ok())
        return Error{kErrInvalidArgument,
                     fmt::format("object.store '{}': bad prefix: {}", uri, st.error().message)};
    }
  }
  return loc;
}

}  // namespace carelog::objstore
