// The operator endpoints served by server::AdminHttpServer
// (admin.http.listener):
//   GET /health   200 {"status":"ok",...} or 503 {"status":"failing",...}
//                 with one entry per check: today the object store (named
//                 by bucket/directory, with the failing operation and the
//                 store's answer, e.g. an S3 AccessDenied or NoSuchBucket),
//                 and in cluster mode this broker's lease (503 while it is
//                 not valid: the metadata store did not answer in time).
//   GET /metrics  Prometheus text format: WAL, uploads, object-store
//                 requests by operation and status class, bytes, retries,
//                 latency histogram.
// Nothing served names a topic's records, a key or a credential.
//
// Threading: the handlers read thread-safe statistics only; `logs` and
// `store` must outlive the server they are registered with.
#pragma once

#include <map>
#include <string>

#include "server/admin_http.h"

namespace carelog::objstore {
class ObjectStore;
}
namespace carelog::partition {
class WalLogManager;
}
namespace carelog::governance {
class Governance;
}
namespace carelog::metadata {
class MetadataStore;
}
namespace carelog::cluster {
class Cluster;
}

namespace carelog::broker {

// `governance` (may be null) adds the policy in force and its last reload
// to /health (reported, never failing the check: the broker keeps serving
// with the previous policy) and decision counters to /metrics.
std::map<std::string, server::AdminHttpServer::Handler> admin_routes(
    partition::WalLogManager& logs, const objstore::ObjectStore& store,
    const governance::Governance* governance, const metadata::MetadataStore* metadata = nullptr,
    const cluster::Cluster* cluster = nullptr);

}  // namespace carelog::broker
