// The broker config registry: one table, one row per accepted key.
#include <algorithm>
#include <string>

#include "common/log.h"
#include "config/broker_config.h"

namespace carelog::config {
namespace {

std::optional<std::string> check_log_level(std::string_view v) {
  log::Level level;
  if (log::parse_level(v, &level)) return std::nullopt;
  return "'" + std::string(v) + "' is not a log level (debug, info, warn, error)";
}

std::optional<std::string> check_metadata_uri(std::string_view v) {
  if (v.rfind("sqlite://", 0) == 0 && v.size() > 9) return std::nullopt;
  for (std::string_view scheme : {"postgresql://", "postgres://"})
    if (v.rfind(scheme, 0) == 0) return std::nullopt;  // libpq parses the rest when connecting
  return "'" + std::string(v) +
         "' is not a supported metadata store URI (sqlite://<path> or "
         "postgresql://user:password@host:port/dbname)";
}

std::optional<std::string> check_audit_topic_name(std::string_view v) {
  if (v.size() > 2 && v.substr(0, 2) == "__") return std::nullopt;
  return "must start with __ (an internal topic) and name a topic";
}

std::optional<std::string> check_not_empty(std::string_view v) {
  if (!v.empty()) return std::nullopt;
  return "must not be empty";
}

constexpr int64_t kIntMax = 2147483647;
constexpr std::string_view kCompressionTypes[] = {"uncompressed", "zstd", "lz4",
                                                  "snappy",       "gzip", "producer"};

std::vector<ConfigDef> make_defs() {
  using T = ConfigType;
  auto range = [](std::optional<int64_t> lo, std::optional<int64_t> hi = std::nullopt) {
    Validator v;
    v.min = lo;
    v.max = hi;
    return v;
  };
  auto choices = [](std::initializer_list<std::string_view> c) {
    Validator v;
    v.choices = c;
    return v;
  };
  auto custom = [](std::optional<std::string> (*f)(std::string_view)) {
    Validator v;
    v.custom = f;
    return v;
  };
  Validator none;
  Validator cleanup = choices({"delete", "compact"});
  Validator compression;
  compression.choices.assign(std::begin(kCompressionTypes), std::end(kCompressionTypes));

  std::vector<ConfigDef> d = {
      // --- network ---
      {"listeners", T::kString, "PLAINTEXT://127.0.0.1:9092", none,
       "Comma-separated NAME://host:port addresses to listen on. An empty host binds all interfaces."},
      {"advertised.listeners", T::kString, std::nullopt, none,
       "Addresses given to clients in metadata responses; defaults to listeners."},
      {"listener.security.protocol.map", T::kString,
       "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
       none, "Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)."},
      {"controller.listener.names", T::kList, "", none,
       "Listener names used by KRaft controllers; Carelog has no controller and does not serve them."},
      {"socket.request.max.bytes", T::kInt, "104857600", range(1),
       "Maximum size of a request the broker accepts, in bytes."},
      {"num.network.threads", T::kInt, std::nullopt, range(1),
       "Threads handling network I/O. Defaults to the number of cores."},
      {"num.io.threads", T::kInt, std::nullopt, range(1),
       "Threads processing requests. Defaults to the number of cores."},
      // --- identity ---
      {"node.id", T::kInt, "1", range(0), "This broker's id."},
      {"broker.id", T::kInt, std::nullopt, range(0), "Alias of node.id."},
      {"broker.rack", T::kString, std::nullopt, none,
       "Rack (zone) of this broker, listed in Metadata and DescribeCluster."},
      // --- cluster mode (docs/cluster.md) ---
      {"cluster.enable", T::kBoolean, std::nullopt, none,
       "Run as one of several brokers sharing metadata.store and object.store: register with a heartbeat "
       "lease and lead only the partitions assigned to this broker. Default: on for a PostgreSQL "
       "metadata.store, off for SQLite (a shared SQLite file works across processes on one machine)."},
      {"broker.session.timeout.ms", T::kInt, "3000", range(100),
       "Cluster mode: lease of this broker's registration. A broker that could not renew it stops "
       "acknowledging before it ends; after it ends, other brokers take over its partitions."},
      {"broker.heartbeat.interval.ms", T::kInt, "500", range(10),
       "Cluster mode: how often the registration lease is renewed and the live brokers are re-read."},
      {"cluster.wal.file.accept.data.loss", T::kBoolean, "false", none,
       "Cluster mode with wal.type=file: accept that acknowledged records not yet uploaded are lost with "
       "the node's disk (another broker cannot read them). Without it such a cluster refuses to start."},
      // --- topics ---
      {"num.partitions", T::kInt, "1", range(1), "Default partition count for auto-created topics."},
      {"default.replication.factor", T::kInt, "1", range(1, 32767),
       "Default replication factor for auto-created topics (durability comes from object storage)."},
      {"auto.create.topics.enable", T::kBoolean, "true", none,
       "Create a topic when a client fetches metadata for or produces to an unknown one."},
      {"delete.topic.enable", T::kBoolean, "true", none, "Allow DeleteTopics."},
      {"message.max.bytes", T::kInt, "1048588", range(0),
       "Largest record batch the broker accepts; default for the topic config max.message.bytes.", true},
      {"log.retention.ms", T::kLong, std::nullopt, range(-1),
       "Default retention time in ms (-1 unlimited); wins over log.retention.minutes and .hours.", true},
      {"log.retention.minutes", T::kInt, std::nullopt, range(-1),
       "Default retention time in minutes; used when log.retention.ms is not set.", true},
      {"log.retention.hours", T::kInt, "168", range(-1),
       "Default retention time in hours; used when neither log.retention.ms nor .minutes is set.", true},
      {"log.retention.bytes", T::kLong, "-1", range(-1),
       "Default maximum partition size before old data is deleted (-1 unlimited).", true},
      {"log.message.timestamp.type", T::kString, "CreateTime", choices({"CreateTime", "LogAppendTime"}),
       "Default timestamp type of stored records: producer-assigned (CreateTime) or broker-assigned.", true},
      {"log.message.timestamp.before.max.ms", T::kLong, "9223372036854775807", range(0),
       "Default for message.timestamp.before.max.ms: how far a CreateTime timestamp may lag the clock.",
       true},
      {"log.message.timestamp.after.max.ms", T::kLong, "3600000", range(0),
       "Default for message.timestamp.after.max.ms: how far a CreateTime timestamp may lead the clock.",
       true},
      {"log.cleanup.policy", T::kList, "delete", cleanup,
       "Default cleanup policy of topics: delete, compact or both.", true},
      {"log.segment.bytes", T::kInt, "1073741824", range(1048576),
       "Kafka's segment size; reported as the segment.bytes default. Carelog's storage has no segments.",
       true},
      {"log.roll.ms", T::kLong, std::nullopt, range(1),
       "Kafka's segment roll time in ms; reported as the segment.ms default. Unused by Carelog's storage.",
       true},
      {"log.roll.hours", T::kInt, "168", range(1),
       "Kafka's segment roll time in hours; used when log.roll.ms is not set. Unused by Carelog's storage.",
       true},
      {"min.insync.replicas", T::kInt, "1", range(1),
       "Minimum in-sync replicas for acks=all. Carelog has one replica plus object storage.", true},
      {"unclean.leader.election.enable", T::kBoolean, "false", none,
       "Kafka's unclean leader election switch; no effect in Carelog.", true},
      {"compression.type", T::kString, "producer", compression,
       "Compression of stored batches; 'producer' keeps what the producer sent.", true},
      // Broker synonyms of topic configs that have no effect in Carelog
      // (topic_config.cpp says why); registered so server.properties may set
      // them and DescribeConfigs reports them as Kafka does.
      {"compression.gzip.level", T::kInt, "-1", range(-1, 9),
       "Default for the topic config compression.gzip.level.", true},
      {"compression.lz4.level", T::kInt, "9", range(1, 17),
       "Default for the topic config compression.lz4.level.", true},
      {"compression.zstd.level", T::kInt, "3", range(-131072, 22),
       "Default for the topic config compression.zstd.level.", true},
      {"log.cleaner.delete.retention.ms", T::kLong, "86400000", range(0),
       "Default for the topic config delete.retention.ms.", true},
      {"log.cleaner.min.compaction.lag.ms", T::kLong, "0", range(0),
       "Default for the topic config min.compaction.lag.ms.", true},
      {"log.cleaner.max.compaction.lag.ms", T::kLong, "9223372036854775807", range(1),
       "Default for the topic config max.compaction.lag.ms.", true},
      {"log.cleaner.min.cleanable.ratio", T::kDouble, "0.5", range(0, 1),
       "Default for the topic config min.cleanable.dirty.ratio.", true},
      {"log.segment.delete.delay.ms", T::kLong, "60000", range(0),
       "Default for the topic config file.delete.delay.ms.", true},
      {"log.flush.interval.messages", T::kLong, "9223372036854775807", range(1),
       "Default for the topic config flush.messages.", true},
      {"log.flush.interval.ms", T::kLong, std::nullopt, none, "Default for the topic config flush.ms.", true},
      {"log.flush.scheduler.interval.ms", T::kLong, "9223372036854775807", none,
       "Default for the topic config flush.ms when log.flush.interval.ms is not set.", true},
      {"log.index.interval.bytes", T::kInt, "4096", range(0),
       "Default for the topic config index.interval.bytes.", true},
      {"log.index.size.max.bytes", T::kInt, "10485760", range(4),
       "Default for the topic config segment.index.bytes.", true},
      {"log.preallocate", T::kBoolean, "false", none, "Default for the topic config preallocate.", true},
      {"log.roll.jitter.ms", T::kLong, std::nullopt, none, "Default for the topic config segment.jitter.ms.",
       true},
      {"log.roll.jitter.hours", T::kInt, "0", range(0),
       "Default for segment.jitter.ms in hours, when log.roll.jitter.ms is not set.", true},
      {"log.local.retention.ms", T::kLong, "-2", range(-2),
       "Default for the topic config local.retention.ms.", true},
      {"log.local.retention.bytes", T::kLong, "-2", range(-2),
       "Default for the topic config local.retention.bytes.", true},
      {"log.remote.copy.lag.ms", T::kLong, "0", range(-1), "Default for the topic config remote.copy.lag.ms.",
       true},
      {"log.remote.copy.lag.bytes", T::kLong, "-1", range(-1),
       "Default for the topic config remote.copy.lag.bytes.", true},
      {"max.decompressed.message.bytes", T::kInt, "2147483639", range(1, 2147483639),
       "Default for the topic config max.decompressed.message.bytes.", true},
      // --- groups ---
      {"offsets.retention.minutes", T::kInt, "10080", range(1),
       "How long committed offsets of an empty group are kept."},
      {"offsets.topic.num.partitions", T::kInt, "50", range(1),
       "Partitions of __consumer_offsets, fixed when the topic is created (as in Kafka)."},
      {"group.initial.rebalance.delay.ms", T::kInt, "3000", range(0),
       "Delay of the first rebalance of a new group, to let more members join."},
      {"group.min.session.timeout.ms", T::kInt, "6000", range(0),
       "Smallest session timeout a member may use."},
      {"group.max.session.timeout.ms", T::kInt, "1800000", range(0),
       "Largest session timeout a member may use."},
      // --- transactions ---
      {"transaction.max.timeout.ms", T::kInt, "900000", range(1),
       "Largest transaction.timeout.ms a transactional producer may use."},
      {"transaction.abort.timed.out.transaction.cleanup.interval.ms", T::kInt, "10000", range(1),
       "How often the transaction coordinator aborts transactions that exceeded their timeout."},
      {"transactional.id.expiration.ms", T::kInt, "604800000", range(1),
       "Idle time after which a transactional id may be forgotten (not enforced yet)."},
      // --- storage (Carelog) ---
      {"data.dir", T::kString, "./carelog-data", custom(check_not_empty),
       "Directory for all broker state (WAL, metadata, local object store)."},
      {"log.dirs", T::kString, std::nullopt, none,
       "Kafka's data directories; alias of data.dir (one directory)."},
      {"log.dir", T::kString, std::nullopt, none, "Kafka's data directory; alias of data.dir."},
      {"wal.dir", T::kString, std::nullopt, none, "Write-ahead log directory; defaults to <data.dir>/wal."},
      {"wal.capacity.bytes", T::kLong, "2147483648", range(1 << 20),
       "Disk space the WAL may use before producers wait for upload to object storage."},
      {"wal.segment.bytes", T::kLong, "67108864", range(4096, kIntMax), "Size of one WAL segment file."},
      {"wal.max.wait.ms", T::kLong, "5000", range(0),
       "How long a produce request waits for WAL space before failing."},
      {"wal.type", T::kString, "file", choices({"file", "object"}),
       "file: local WAL segments; object: WAL objects in object.store (stateless broker)."},
      {"wal.object.batch.ms", T::kLong, "200", range(0),
       "wal.type=object: longest a record waits for its WAL object to be sealed (with "
       "wal.object.max.puts.per.sec=0: the fixed collection window)."},
      {"wal.object.max.puts.per.sec", T::kDouble, "50", range(0),
       "wal.type=object: WAL PUT budget; an object is sealed as soon as the previous PUT returned, at "
       "most this often (0: fixed wal.object.batch.ms window)."},
      {"wal.object.batch.bytes", T::kLong, "4194304", range(1024),
       "wal.type=object: write the WAL object early once this many bytes wait."},
      {"wal.object.put.timeout.ms", T::kLong, "10000", range(100),
       "wal.type=object: fail produce requests (retriably) if their WAL object PUT takes longer."},
      {"admin.http.listener", T::kString, "", none,
       "host:port of the operator HTTP endpoint (GET /health, GET /metrics; port 0 picks one). No "
       "authentication: bind to loopback or a management network. Empty: off."},
      {"schema.registry.listener", T::kString, "", none,
       "[http://|https://]host:port of the schema registry's REST API (docs/schema-registry.md; port 0 picks "
       "one; https uses the ssl.* keystore). Empty: off."},
      {"schema.registry.authentication", T::kString, "none", choices({"none", "basic"}),
       "Schema registry clients: none, or basic (HTTP Basic against the SCRAM users)."},
      {"schema.registry.import.file", T::kString, "", none,
       "A JSON export of another registry to import at start-up (docs/schema-registry.md#import)."},
      {"cache.log.bytes", T::kLong, "268435456", range(0),
       "Memory for recently appended batches (tail reads)."},
      {"cache.block.bytes", T::kLong, "268435456", range(0), "Memory for blocks read from object storage."},
      {"upload.object.bytes", T::kLong, "16777216", range(1024),
       "Upload to object storage once this many bytes wait in the WAL (one object per upload)."},
      {"upload.interval.ms", T::kLong, "2000", range(1),
       "Upload whatever waits in the WAL at least this often."},
      {"compaction.interval.ms", T::kLong, "60000", range(0),
       "How often small objects are merged (0 disables compaction)."},
      {"compaction.small.object.bytes", T::kLong, "4194304", range(1),
       "Objects smaller than this are merged by compaction."},
      {"compaction.target.object.bytes", T::kLong, "67108864", range(1),
       "Compaction stops adding input objects beyond this size."},
      {"compaction.partition.split.bytes", T::kLong, "8388608", range(1),
       "Compaction writes a partition with at least this much live data into an object of its own."},
      {"log.cleaner.backoff.ms", T::kLong, "15000", range(0),
       "How often compacted partitions are checked for cleaning (docs/compaction.md)."},
      {"log.cleaner.dedupe.buffer.size", T::kLong, "134217728", range(1048576),
       "Memory for the log cleaner's key map: 24 bytes per key, so this / 24 * 0.9 keys per pass."},
      {"producer.id.expiration.ms", T::kLong, "86400000", range(1),
       "Idempotent-producer state is dropped once the producer's last batch is this old (as Kafka)."},
      {"object.delete.delay.ms", T::kLong, "60000", range(0),
       "Grace period between retiring an object and deleting it (reads in flight finish)."},
      {"object.orphan.min.age.ms", T::kLong, "600000", range(1000),
       "Objects no index entry references are deleted once older than this."},
      {"log.retention.check.interval.ms", T::kLong, "300000", range(1),
       "How often retention.ms / retention.bytes are applied."},
      {"metadata.store", T::kString, std::nullopt, custom(check_metadata_uri),
       "Metadata store URI: sqlite://<path> (embedded, the default: sqlite://<absolute "
       "data.dir>/metadata.db) "
       "or postgresql://user:password@host:port/dbname (shared by several brokers; docs/cluster.md)."},
      {"object.store", T::kString, std::nullopt, custom(check_not_empty),
       "Object store URI; defaults to file://<absolute data.dir>/objects."},
      // --- S3 object store (used when object.store is s3://bucket/prefix) ---
      {"s3.endpoint", T::kString, std::nullopt, none,
       "S3 endpoint URL (http(s)://host[:port]); defaults to https://s3.<region>.amazonaws.com."},
      {"s3.region", T::kString, std::nullopt, none,
       "S3 signing region; defaults to AWS_REGION / AWS_DEFAULT_REGION, else us-east-1."},
      {"s3.path.style", T::kBoolean, "false", none,
       "Path-style addressing (host/bucket/key) instead of virtual-hosted (bucket.host/key)."},
      {"s3.access.key.id", T::kPassword, std::nullopt, none,
       "S3 access key id; defaults to AWS_ACCESS_KEY_ID or the shared credentials file."},
      {"s3.secret.access.key", T::kPassword, std::nullopt, none,
       "S3 secret access key; defaults to AWS_SECRET_ACCESS_KEY or the shared credentials file."},
      {"s3.ca.file", T::kString, std::nullopt, none,
       "PEM CA bundle for a private CA (HTTPS is always verified)."},
      {"s3.max.connections", T::kInt, "16", range(1, 1024), "S3 requests in flight at once."},
      {"s3.multipart.threshold.bytes", T::kLong, "16777216", range(5 << 20),
       "Objects at least this large are uploaded with multipart upload."},
      {"s3.multipart.part.bytes", T::kLong, "8388608", range(5 << 20), "Multipart upload part size."},
      {"s3.max.attempts", T::kInt, "6", range(1, 100),
       "Attempts per S3 request (transient errors are retried)."},
      {"s3.retry.backoff.ms", T::kInt, "100", range(1), "First retry backoff (doubles, with full jitter)."},
      {"s3.retry.backoff.max.ms", T::kInt, "5000", range(1), "Largest retry backoff."},
      // --- authorization (docs/security.md) ---
      {"authorizer.class.name", T::kString, "", none,
       "Empty: no authorization (every request allowed). 'carelog' or "
       "org.apache.kafka.metadata.authorizer.StandardAuthorizer: Kafka ACLs are enforced."},
      {"super.users", T::kString, "", none,
       "Semicolon-separated principals (User:admin;User:ops) allowed everything when ACLs are enforced."},
      {"allow.everyone.if.no.acl.found", T::kBoolean, "false", none,
       "With ACLs enforced: allow a request on a resource no ACL applies to."},
      {"log.level", T::kString, "info", custom(check_log_level),
       "Broker log level: debug, info, warn, error.", true},
      // --- audit stream (docs/audit.md); file-only: none is dynamic ---
      {"audit.enable", T::kBoolean, "true", none,
       "Append authentication, authorization-denial, admin and marked data-access events to the audit "
       "topic."},
      {"audit.topic.name", T::kString, "__carelog_audit", custom(check_audit_topic_name),
       "Internal topic holding the hash-chained audit stream (must start with __)."},
      {"audit.topic.partitions", T::kInt, "1", range(1, 1024),
       "Partitions of the audit topic when it is created (one hash chain per partition)."},
      {"audit.retention.min.ms", T::kLong, "604800000", range(0),
       "Floor for the audit topic's retention.ms; its retention cannot be set lower (or to any "
       "retention.bytes)."},
      {"audit.queue.events", T::kInt, "65536", range(1),
       "Audit events buffered for the writer; beyond that events are dropped, counted and reported."},
      // --- governance (topic catalog and policy; docs/governance.md) ---
      {"governance.mode", T::kString, "enforce", choices({"off", "warn", "enforce"}),
       "off: no governance checks; warn: violations are logged and audited but allowed; enforce: they are "
       "refused."},
      {"governance.policy.file", T::kString, "", none,
       "JSON policy (classifications, retention classes, namespaces, rules); empty: the built-in policy "
       "(default classifications, ePHI rules). Re-read when it changes; an invalid file keeps the old "
       "policy."},
      {"governance.policy.check.interval.ms", T::kLong, "5000", range(0),
       "How often governance.policy.file is checked for changes (0 = never)."},
      // --- TLS (SSL and SASL_SSL listeners; docs/security.md) ---
      {"ssl.keystore.type", T::kString, "PEM", choices({"PEM", "PKCS12"}),
       "Format of ssl.keystore.location: PEM (certificate chain + private key) or PKCS12."},
      {"ssl.keystore.location", T::kString, std::nullopt, none,
       "Server certificate chain and private key file; re-read when it changes."},
      {"ssl.keystore.password", T::kPassword, std::nullopt, none, "Password of a PKCS12 keystore."},
      {"ssl.key.password", T::kPassword, std::nullopt, none, "Password of an encrypted PEM private key."},
      {"ssl.keystore.certificate.chain", T::kPassword, std::nullopt, none,
       "Inline PEM certificate chain (instead of ssl.keystore.location)."},
      {"ssl.keystore.key", T::kPassword, std::nullopt, none,
       "Inline PEM private key (with ssl.keystore.certificate.chain)."},
      {"ssl.truststore.type", T::kString, "PEM", choices({"PEM"}), "Format of ssl.truststore.location."},
      {"ssl.truststore.location", T::kString, std::nullopt, none,
       "PEM bundle of CAs trusted for client certificates; re-read when it changes."},
      {"ssl.truststore.password", T::kPassword, std::nullopt, none, "Unused for PEM truststores."},
      {"ssl.truststore.certificates", T::kPassword, std::nullopt, none,
       "Inline PEM CA certificates (instead of ssl.truststore.location)."},
      {"ssl.client.auth", T::kString, "none", choices({"required", "requested", "none"}),
       "Client certificates: required (mTLS), requested (verified when sent) or none."},
      {"ssl.enabled.protocols", T::kList, "TLSv1.2,TLSv1.3", choices({"TLSv1.2", "TLSv1.3"}),
       "TLS versions accepted."},
      {"ssl.protocol", T::kString, "TLSv1.3", none, "Kafka's SSLContext protocol; informational."},
      {"ssl.cipher.suites", T::kList, "", none,
       "Allowed cipher suites (OpenSSL or IANA TLS_* names); empty = OpenSSL defaults."},
      {"ssl.principal.mapping.rules", T::kString, "DEFAULT", none,
       "Rules mapping a client certificate's subject DN to a principal name "
       "(RULE:pattern/replacement/[LU])."},
      {"ssl.endpoint.identification.algorithm", T::kString, "https", none,
       "Client-side setting; accepted and unused by the broker."},
      {"ssl.reload.check.interval.ms", T::kLong, "5000", range(0),
       "How often keystore/truststore files are checked for changes (0 = never)."},
      // --- SASL (SASL_PLAINTEXT and SASL_SSL listeners) ---
      {"sasl.enabled.mechanisms", T::kList, "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN",
       choices({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}), "SASL mechanisms offered to clients."},
      {"connections.max.reauth.ms", T::kLong, "0", range(0),
       "KIP-368 session lifetime for SASL connections; 0 = no expiry."},
  };
  return d;
}

}  // namespace

const std::vector<ConfigDef>& broker_config_defs() {
  static const std::vector<ConfigDef> defs = make_defs();
  return defs;
}

const ConfigDef* find_broker_config_def(std::string_view name) {
  for (const auto& d : broker_config_defs())
    if (d.name == name) return &d;
  return nullptr;
}

bool is_ignored_broker_key(std::string_view name) {
  static constexpr std::string_view kExact[] = {
      "num.recovery.threads.per.data.dir",
      "process.roles",
      "inter.broker.listener.name",
      "num.replica.fetchers",
      "offsets.topic.replication.factor",
      "transaction.state.log.replication.factor",
      "transaction.state.log.min.isr",
      "transaction.state.log.num.partitions",
      "socket.send.buffer.bytes",
      "socket.receive.buffer.bytes",
      "log.message.timestamp.difference.max.ms",  // removed in Kafka 4.0
      "log.cleaner.enable",
      "auto.leader.rebalance.enable",
      "group.coordinator.rebalance.protocols",
  };
  static constexpr std::string_view kPrefixes[] = {"zookeeper.", "controller.", "log.cleaner.",
                                                   "confluent.metrics.", "metric.reporters"};
  if (find_broker_config_def(name)) return false;
  for (auto e : kExact)
    if (e == name) return true;
  for (auto p : kPrefixes)
    if (name.substr(0, p.size()) == p) return true;
  return false;
}

}  // namespace carelog::config
