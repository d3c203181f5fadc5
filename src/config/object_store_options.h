// The S3 backend options a BrokerConfig's s3.* keys describe, shared by
// carelogd and the CLI tools that open the broker's object store offline
// (`carelog replay-check --config`). Never log the result: it holds keys.
#pragma once

#include "config/broker_config.h"
#include "objstore/s3_options.h"

namespace carelog::config {

objstore::S3Options s3_options(const BrokerConfig& config);

}  // namespace carelog::config
