#include "broker/broker.h"

#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "audit/audit_config.h"
#include "broker/admin_endpoints.h"
#include "broker/cluster_setup.h"
#include "cluster/cluster.h"
#include "common/log.h"
#include "config/broker_config.h"
#include "config/object_store_options.h"
#include "config/topic_config.h"
#include "governance/governance.h"
#include "group/coordinator.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "objstore/s3_options.h"
#include "partition/wal_log_manager.h"
#include "registry/import.h"
#include "registry/registry.h"
#include "registry/rest.h"
#include "registry/validators.h"
#include "security/authorizer.h"
#include "server/admin_http.h"
#include "server/audit_events.h"
#include "server/broker_context.h"
#include "server/consumer_offsets_topic.h"
#include "server/coordinator_shards.h"
#include "server/dispatch.h"
#include "server/producer_ids.h"
#include "server/registry_http.h"
#include "server/server.h"
#include "server/topic_registry.h"
#include "server/txn_hooks.h"
#include "storage/file_system.h"
#include "txn/coordinator.h"

namespace carelog::broker {

struct Broker::Parts {
  config::BrokerConfig config;
  std::unique_ptr<metadata::MetadataStore> metadata;
  std::unique_ptr<objstore::ObjectStore> objects;  // outlives `logs`
  std::unique_ptr<partition::WalLogManager> logs;
  std::unique_ptr<cluster::Cluster> cluster;  // null unless cluster mode; destroyed before `logs`
  std::unique_ptr<server::TopicRegistry> topics;
  std::unique_ptr<server::ConsumerOffsetsTopic> consumer_offsets;  // outlives `groups` (its observer)
  std::unique_ptr<server::ProducerIdAllocator> producer_ids;
  group::SteadyClock group_clock;
  std::unique_ptr<group::GroupCoordinator> groups;
  std::unique_ptr<server::CoordinatorShards> coordinators;  // cluster mode only
  txn::SystemTxnClock txn_clock;
  std::unique_ptr<txn::TxnCoordinator> txns;
  std::unique_ptr<security::Authorizer> authorizer;  // null: no authorization
  std::unique_ptr<audit::AuditLog> audit;            // null when audit.enable=false
  std::unique_ptr<governance::Governance> governance;
  server::BrokerContext context;
  std::unique_ptr<server::Server> server;
  std::unique_ptr<server::AdminHttpServer> admin_http;  // null unless admin.http.listener is set
  std::shared_ptr<registry::Registry> registry;         // schema registry over `metadata`
  std::unique_ptr<registry::RestApi> registry_api;
  std::unique_ptr<server::RegistryHttpServer> registry_http;  // null unless schema.registry.listener is set
  bool stopped = false;
};

Broker::Broker() : parts_(std::make_unique<Parts>()) {}
Broker::~Broker() { shutdown(); }

namespace {

Status make_dir(const std::string& path, const char* what) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return make_error(std::string("cannot create ") + what + " '" + path + "': " + ec.message());
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Broker>> Broker::start(const std::optional<std::string>& config_file,
                                              const std::vector<std::string>& overrides) {
  auto config = config::load_broker_config(config_file, overrides);
  if (!config.ok()) return config.take_error();
  std::unique_ptr<Broker> broker(new Broker());
  Parts& p = *broker->parts_;
  p.config = std::move(*config);

  log::Level level;
  if (log::parse_level(p.config.log_level, &level)) log::set_level(level);

  if (p.config.listeners.empty())
    return make_error("no listener configured (listeners=PLAINTEXT://host:port)");
  CARELOG_RETURN_IF_ERROR(make_dir(p.config.data_dir, "data.dir"));
  CARELOG_RETURN_IF_ERROR(make_dir(p.config.wal_dir, "wal.dir"));

  auto store = metadata::open_metadata_store(p.config.metadata_store);
  if (!store.ok()) return make_error("metadata.store: " + store.error().message);
  p.metadata = std::move(*store);
  auto dynamic = p.metadata->broker_configs();
  if (!dynamic.ok()) return make_error("metadata.store: " + dynamic.error().message);
  if (!dynamic->empty()) {
    auto layered = config::with_dynamic_configs(p.config, *dynamic);
    if (!layered.ok()) return layered.take_error();
    p.config = std::move(*layered);
  }
  auto cluster_id = p.metadata->cluster_id();
  if (!cluster_id.ok()) return make_error("metadata.store: " + cluster_id.error().message);
  const bool cluster_mode = config::cluster_enabled(p.config);
  if (cluster_mode) {
    CARELOG_RETURN_IF_ERROR(check_meta_properties(p.config.data_dir, *cluster_id, p.config.node_id));
    auto joined = cluster::Cluster::join(*p.metadata, membership_options(p.config));
    if (!joined.ok()) return make_error("cluster: " + joined.error().message, joined.error().code);
    p.cluster = std::move(*joined);
  }

  partition::LogConfig log_options;
  log_options.wal.dir = p.config.wal_dir;
  log_options.wal.segment_bytes = static_cast<uint64_t>(p.config.wal_segment_bytes);
  log_options.wal.capacity_bytes = static_cast<uint64_t>(p.config.wal_capacity_bytes);
  log_options.wal.max_wait = std::chrono::milliseconds(p.config.wal_max_wait_ms);
  // wal.type=object: the WAL lives in object.store (docs/object-wal.md).
  log_options.wal_type =
      p.config.raw["wal.type"] == "object" ? storage::WalType::kObject : storage::WalType::kFile;
  log_options.object_wal.batch_window =
      std::chrono::milliseconds(config::parse_number(p.config.raw["wal.object.batch.ms"]));
  log_options.object_wal.max_puts_per_sec = std::stod(p.config.raw["wal.object.max.puts.per.sec"]);
  log_options.object_wal.batch_bytes =
      static_cast<uint64_t>(config::parse_number(p.config.raw["wal.object.batch.bytes"]));
  log_options.object_wal.put_timeout =
      std::chrono::milliseconds(config::parse_number(p.config.raw["wal.object.put.timeout.ms"]));
  log_options.object_wal.capacity_bytes = log_options.wal.capacity_bytes;
  log_options.object_wal.max_wait = log_options.wal.max_wait;
  if (p.cluster) {
    CARELOG_RETURN_IF_ERROR(cluster_wal_options(p.config, &log_options));
    log_options.object_wal.prefix = cluster::wal_prefix(p.cluster->node_id(), p.cluster->broker_epoch());
  }
  log_options.cache_bytes = static_cast<uint64_t>(p.config.cache_log_bytes);
  objstore::S3Options s3 = config::s3_options(p.config);  // used only for s3://...; never logged
  auto objects = objstore::open_object_store(p.config.object_store, s3);
  if (!objects.ok()) return make_error("object.store: " + objects.error().message);
  p.objects = std::move(*objects);
  log_options.object_store = p.objects.get();
  log_options.block_cache_bytes = static_cast<uint64_t>(p.config.cache_block_bytes);
  log_options.upload_object_bytes = static_cast<uint64_t>(p.config.upload_object_bytes);
  log_options.upload_interval_ms = p.config.upload_interval_ms;
  log_options.retention_check_interval_ms = p.config.log_retention_check_interval_ms;
  log_options.compaction_interval_ms = p.config.compaction_interval_ms;
  log_options.compaction_small_object_bytes = static_cast<uint64_t>(p.config.compaction_small_object_bytes);
  log_options.compaction_target_object_bytes = static_cast<uint64_t>(p.config.compaction_target_object_bytes);
  log_options.compaction_partition_split_bytes =
      static_cast<uint64_t>(p.config.compaction_partition_split_bytes);
  log_options.producer_id_expiration_ms = p.config.producer_id_expiration_ms;
  log_options.object_delete_delay_ms = p.config.object_delete_delay_ms;
  log_options.orphan_min_age_ms = p.config.object_orphan_min_age_ms;
  const config::BrokerConfig* cfg = &p.config;
  const audit::AuditConfig audit_config = audit::audit_config(p.config);
  log_options.retention = [cfg, audit_config](const metadata::TopicRecord& t) {
    auto settings = config::effective_topic_settings(*cfg, t.configs);
    if (t.name == audit_config.topic_name)  // the floor holds whatever the stored configs say
      return audit::clamp_audit_retention(audit_config, settings.retention_ms, settings.retention_bytes);
    return std::make_pair(settings.retention_ms, settings.retention_bytes);
  };
  log_options.cleanup = [cfg](const metadata::TopicRecord& t) -> std::optional<storage::CleanerPolicy> {
    auto s = config::effective_topic_settings(*cfg, t.configs);
    if (!s.compact) return std::nullopt;
    storage::CleanerPolicy policy;
    policy.min_lag_ms = s.min_compaction_lag_ms;
    policy.max_lag_ms = s.max_compaction_lag_ms;
    policy.delete_retention_ms = s.delete_retention_ms;
    policy.min_dirty_ratio = s.min_cleanable_dirty_ratio;
    return policy;
  };
  log_options.cleaner_backoff_ms = config::parse_number(p.config.raw["log.cleaner.backoff.ms"]);
  log_options.cleaner_key_map_bytes =
      static_cast<uint64_t>(config::parse_number(p.config.raw["log.cleaner.dedupe.buffer.size"]));
  auto logs = partition::WalLogManager::open(log_options, *p.metadata, storage::posix_file_system());
  if (!logs.ok()) return make_error("storage: " + logs.error().message);
  p.logs = std::move(*logs);
  p.logs->start_background();

  server::BrokerDefaults defaults;
  defaults.message_max_bytes = p.config.message_max_bytes;
  for (const auto& policy : config::split_list(p.config.raw["log.cleanup.policy"]))
    defaults.compact = defaults.compact || policy == "compact";
  defaults.timestamp_type = p.config.log_append_time ? partition::TimestampType::kLogAppendTime
                                                     : partition::TimestampType::kCreateTime;
  p.topics = std::make_unique<server::TopicRegistry>(*p.metadata, *p.logs, defaults);
  // The schema registry lives in the metadata store, so every broker sharing
  // it validates schema-id/schema topics, whether or not it serves the REST API.
  p.registry = std::make_shared<registry::Registry>(*p.metadata);
  p.topics->set_validator_factory(std::make_shared<registry::RegistryValidatorFactory>(p.registry));
  CARELOG_RETURN_IF_ERROR(p.topics->load());
  if (p.cluster) {
    server::TopicRegistry* registry = p.topics.get();
    p.cluster->start(
        *p.logs, [registry](const std::vector<metadata::TopicRecord>& topics) { registry->refresh(topics); },
        [](const std::string& why) {
          // Crash-only: other brokers may already lead this broker's
          // partitions; its commits are fenced, and it acknowledges nothing.
          restart_in_place(why);
        });
  }
  p.producer_ids = std::make_unique<server::ProducerIdAllocator>(*p.metadata);
  CARELOG_RETURN_IF_ERROR(server::check_handlers_complete());

  group::GroupConfig group_config;
  group_config.min_session_timeout_ms = p.config.group_min_session_timeout_ms;
  group_config.max_session_timeout_ms = p.config.group_max_session_timeout_ms;
  group_config.initial_rebalance_delay_ms = p.config.group_initial_rebalance_delay_ms;
  group_config.offsets_retention_ms = int64_t{p.config.offsets_retention_minutes} * 60 * 1000;
  server::TopicRegistry* registry = p.topics.get();
  p.groups = std::make_unique<group::GroupCoordinator>(
      group_config, *p.metadata,
      [registry](const std::string& name) -> std::optional<group::TopicRef> {
        auto t = registry->find(name);
        if (!t) return std::nullopt;
        return group::TopicRef{t->id, t->partitions};
      },
      p.group_clock);
  p.consumer_offsets = std::make_unique<server::ConsumerOffsetsTopic>(
      *p.topics, *p.logs,
      static_cast<int32_t>(config::parse_number(p.config.raw["offsets.topic.num.partitions"])));
  server::ConsumerOffsetsTopic* offsets_topic = p.consumer_offsets.get();
  p.groups->set_offset_observer({[offsets_topic](const std::vector<metadata::CommittedOffsetRecord>& r) {
                                   offsets_topic->committed(r);
                                 },
                                 [offsets_topic](const std::vector<metadata::CommittedOffsetRecord>& r) {
                                   offsets_topic->deleted(r);
                                 }});
  // Cluster mode loads a group when this broker becomes its coordinator:
  // the leader of the group's __consumer_offsets partition.
  if (auto st = p.groups->load(/*all_groups=*/!p.cluster); !st.ok())
    return make_error("group coordinator: " + st.error().message);
  p.groups->start_timer();
  if (p.cluster)
    p.coordinators = std::make_unique<server::CoordinatorShards>(*p.cluster, *p.topics, *p.groups);
  // The transaction coordinator's hooks reach the partitions and groups
  // through the context from its start on.
  p.context.topics = p.topics.get();
  p.context.logs = p.logs.get();
  p.context.producer_ids = p.producer_ids.get();
  p.context.groups = p.groups.get();
  txn::TxnConfig txn_config;
  txn_config.max_timeout_ms =
      static_cast<int32_t>(config::parse_number(p.config.raw["transaction.max.timeout.ms"]));
  txn_config.abort_check_interval_ms =
      config::parse_number(p.config.raw["transaction.abort.timed.out.transaction.cleanup.interval.ms"]);
  txn_config.id_expiration_ms = config::parse_number(p.config.raw["transactional.id.expiration.ms"]);
  p.txns = std::make_unique<txn::TxnCoordinator>(txn_config, *p.metadata, server::make_txn_hooks(p.context),
                                                 p.txn_clock);
  if (auto st = p.txns->load(); !st.ok()) return make_error("transaction coordinator: " + st.error().message);
  p.txns->start();
  p.context.txns = p.txns.get();

  const auto& listener = p.config.listeners.front();
  const auto& advertised =
      p.config.advertised_listeners.empty() ? listener : p.config.advertised_listeners.front();
  auto& o = p.context.options;
  o.listen_host = listener.host.empty() ? "0.0.0.0" : listener.host;
  o.listen_port = listener.port;
  o.advertised_host = advertised.host;
  o.advertised_port = advertised.port;
  o.node_id = p.config.node_id;
  o.io_threads = std::max(1, p.config.num_io_threads);
  o.socket_request_max_bytes = p.config.socket_request_max_bytes;
  o.num_partitions = p.config.num_partitions;
  o.default_replication_factor = p.config.default_replication_factor;
  o.auto_create_topics = p.config.auto_create_topics_enable;
  o.delete_topic_enable = p.config.delete_topic_enable;
  o.listeners = server::listener_specs(p.config);
  o.sasl_enabled_mechanisms = config::split_list(p.config.raw["sasl.enabled.mechanisms"]);
  o.connections_max_reauth_ms = config::parse_number(p.config.raw["connections.max.reauth.ms"]);
  p.context.config = &p.config;
  p.context.cluster_id = *cluster_id;
  p.context.metadata = p.metadata.get();  // logs, topics, producer ids, groups, txns: above
  server::install_consumer_offsets_topic(p.consumer_offsets.get());
  p.context.cluster = p.cluster.get();
  if (p.coordinators) {
    p.coordinators->start();  // loads the groups of the partitions led here
    server::install_coordinator_shards(p.coordinators.get());
  }
  auto authorizer =
      security::open_authorizer(p.config.raw["authorizer.class.name"], p.config.raw["super.users"],
                                p.config.raw["allow.everyone.if.no.acl.found"] == "true", *p.metadata);
  if (!authorizer.ok()) return authorizer.take_error();
  p.authorizer = std::move(*authorizer);
  p.context.authorizer = p.authorizer.get();
  if (p.cluster) {
    // The audit writer appends to local audit partitions; in a cluster they
    // are led by one broker each (docs/cluster.md: left for later).
    if (audit_config.enable) log::warn("cluster: the audit stream is not written in cluster mode yet");
  } else {
    auto audit_log = server::start_audit_log(*p.topics, *p.logs, p.config, *cluster_id);
    if (!audit_log.ok()) return audit_log.take_error();
    p.audit = std::move(*audit_log);
  }
  p.context.audit = p.audit.get();
  governance::GovernanceOptions governance_options;
  governance_options.mode =
      governance::parse_mode(p.config.raw["governance.mode"]).value_or(governance::Mode::kEnforce);
  governance_options.policy_file = p.config.raw["governance.policy.file"];
  governance_options.check_interval_ms =
      config::parse_number(p.config.raw["governance.policy.check.interval.ms"]);
  auto governance = governance::Governance::open(governance_options);
  if (!governance.ok()) return governance.take_error();
  p.governance = std::move(*governance);
  p.context.governance = p.governance.get();
  log::info("governance: mode={}, policy {} (version {})", governance::to_string(governance_options.mode),
            p.governance->status().source, p.governance->status().version);

  if (const std::string& admin = p.config.raw["admin.http.listener"]; !admin.empty()) {
    const size_t colon = admin.rfind(':');
    const std::string host = colon == std::string::npos ? "" : admin.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : admin.substr(colon + 1);
    char* end = nullptr;
    const long port_number = std::strtol(port.c_str(), &end, 10);
    if (host.empty() || port.empty() || *end != '\0' || port_number < 0 || port_number > 65535)
      return make_error(fmt::format("admin.http.listener '{}': expected host:port", admin));
    auto http = server::AdminHttpServer::start(
        host, static_cast<uint16_t>(port_number),
        admin_routes(*p.logs, *p.objects, p.governance.get(), p.metadata.get(), p.cluster.get()));
    if (!http.ok()) return http.take_error();
    p.admin_http = std::move(*http);
    log::info("admin HTTP endpoint (/health, /metrics) on {}:{}", host, p.admin_http->port());
  }

  auto registry_options = server::registry_http_options(p.config);
  if (!registry_options.ok()) return registry_options.take_error();
  if (*registry_options) {
    if (const std::string& file = p.config.raw["schema.registry.import.file"]; !file.empty()) {
      auto imported = registry::import_file(*p.registry, file);
      if (!imported.ok()) return make_error("schema.registry.import.file: " + imported.error().message);
      log::info("schema registry: imported {} schema versions from {}", *imported, file);
    }
    p.registry_api = std::make_unique<registry::RestApi>(*p.registry);
    auto http = server::RegistryHttpServer::start(**registry_options, *p.registry_api, p.context);
    if (!http.ok()) return http.take_error();
    p.registry_http = std::move(*http);
    log::info("schema registry on {}://{}:{} (authentication {})",
              (*registry_options)->tls ? "https" : "http", (*registry_options)->host, p.registry_http->port(),
              (*registry_options)->basic_auth ? "basic" : "none");
  }

  p.server = std::make_unique<server::Server>(p.context);
  CARELOG_RETURN_IF_ERROR(p.server->start());
  if (o.listen_port == 0) o.advertised_port = p.server->bound_port();
  log::info("carelogd started: node.id={} cluster.id={} data.dir={} advertised={}:{}", o.node_id,
            p.context.cluster_id, p.config.data_dir, o.advertised_host, o.advertised_port);
  return broker;
}

void Broker::shutdown() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  // Waiting JoinGroup/SyncGroup requests are answered before the server
  // closes connections; pending offset commits are flushed.
  server::install_coordinator_shards(nullptr);
  if (parts_->coordinators) parts_->coordinators->stop();
  if (parts_->groups) parts_->groups->shutdown();
  if (parts_->server) parts_->server->stop();
  server::install_consumer_offsets_topic(nullptr);
  // After the server: no request reaches it any more. Unfinished
  // transactions stay durable and complete after the restart.
  if (parts_->txns) parts_->txns->shutdown();
  parts_->admin_http.reset();
  parts_->registry_http.reset();
  // Audit records still queued are appended before the WAL is emptied.
  if (parts_->audit) parts_->audit->shutdown();
  // Cluster mode: hand every led partition over (uploaded, released), then
  // deregister, so the others take over without waiting for the lease.
  if (parts_->cluster) parts_->cluster->shutdown();
  // Uploads everything still in the WAL, then empties it.
  if (parts_->logs) parts_->logs->shutdown();
}

uint16_t Broker::port() const { return parts_->server ? parts_->server->bound_port() : 0; }

}  // namespace carelog::broker
