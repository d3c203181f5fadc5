#include "config/object_store_options.h"

namespace carelog::config {

objstore::S3Options s3_options(const BrokerConfig& c) {
  objstore::S3Options s3;
  s3.endpoint = c.s3_endpoint;
  s3.region = c.s3_region;
  s3.path_style = c.s3_path_style;
  s3.credentials = {c.s3_access_key_id, c.s3_secret_access_key, ""};
  s3.ca_file = c.s3_ca_file;
  s3.max_connections = c.s3_max_connections;
  s3.multipart_threshold_bytes = c.s3_multipart_threshold_bytes;
  s3.multipart_part_bytes = c.s3_multipart_part_bytes;
  s3.max_attempts = c.s3_max_attempts;
  s3.retry_base_ms = c.s3_retry_backoff_ms;
  s3.retry_max_ms = c.s3_retry_backoff_max_ms;
  return s3;
}

}  // namespace carelog::config
