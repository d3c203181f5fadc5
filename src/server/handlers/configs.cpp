// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs, plus the topic
// config helpers CreateTopics uses (config_support.h).
#include <algorithm>

#include "config/broker_config.h"
#include "config/topic_config.h"
#include "protocol/messages/alter_configs.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "server/audit_events.h"
#include "server/authorize.h"
#include "server/governance_hooks.h"
#include "server/handlers/common.h"
#include "server/handlers/config_support.h"
#include "server/handlers/handlers.h"

namespace carelog::server {
namespace {

constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;

ResolvedConfigEntry to_entry(const config::ResolvedConfig& r) {
  ResolvedConfigEntry e;
  e.name = r.name;
  e.value = r.sensitive ? std::nullopt : r.value;
  e.read_only = r.read_only;
  e.is_default = r.is_default;
  e.source = static_cast<int8_t>(r.source);
  e.is_sensitive = r.sensitive;
  e.type = static_cast<int8_t>(r.type);
  e.documentation = r.documentation;
  for (const auto& s : r.synonyms) {
    e.synonyms.push_back({s.name, r.sensitive ? std::nullopt : s.value, static_cast<int8_t>(s.source)});
  }
  return e;
}

Status broker_resource_name_ok(RequestContext& ctx, const std::string& name) {
  if (name.empty() || name == std::to_string(ctx.broker.options.node_id)) return Status::OK();
  return make_error("Unexpected broker id, expected " + std::to_string(ctx.broker.options.node_id) +
                        " or empty "
                        "string, but received " +
                        name,
                    code(protocol::ErrorCode::kInvalidRequest));
}

// Applies (Incremental)AlterConfigs results to a topic. Kafka's order: the
// topic name, then the configs (names, values, rules across keys), then
// whether the topic exists.
Status apply_topic_configs(RequestContext& ctx, const std::string& topic_name,
                           const metadata::ConfigMap& configs, bool validate_only) {
  CARELOG_RETURN_IF_ERROR(validate_topic_name(topic_name));
  auto normalized = config::normalize_topic_configs(configs);
  if (!normalized.ok()) return normalized.take_error();
  auto topic = ctx.broker.topics->find(topic_name);
  if (!topic) {
    return make_error("The topic '" + topic_name + "' does not exist.",
                      code(protocol::ErrorCode::kUnknownTopicOrPartition));
  }
  CARELOG_RETURN_IF_ERROR(check_audit_topic_configs(ctx, topic_name, *normalized));
  CARELOG_RETURN_IF_ERROR(governance_check_topic(ctx, topic_name, *normalized, &topic->overrides));
  return ctx.broker.topics->set_configs(topic->id, *normalized, validate_only);
}

// A topic's stored overrides minus keys no longer defined (e.g. Kafka 3's
// message.timestamp.difference.max.ms), so an alter does not fail on them.
metadata::ConfigMap known_overrides(const TopicInfo* topic) {
  metadata::ConfigMap out;
  if (!topic) return out;
  for (const auto& [k, v] : topic->overrides)
    if (config::find_topic_config_def(k)) out[k] = v;
  return out;
}

// (Incremental)AlterConfigs on anything but a topic.
Status alter_non_topic_resource(RequestContext& ctx, int8_t type, const std::string& name) {
  if (type != kBrokerResource) {
    return make_error("Unsupported resource type", code(protocol::ErrorCode::kInvalidRequest));
  }
  CARELOG_RETURN_IF_ERROR(broker_resource_name_ok(ctx, name));
  return make_error("Dynamic broker configs are not supported yet; set them in server.properties",
                    code(protocol::ErrorCode::kInvalidConfig));
}

// Audit name of a config resource type.
const char* resource_kind(int8_t type) {
  return type == kTopicResource ? "topic" : type == kBrokerResource ? "broker" : "config";
}

template <typename Out>
void set_result(Out& out, const Status& st) {
  out.error_code = st.ok() ? 0 : static_cast<int16_t>(st.error().code);
  if (!st.ok()) out.error_message = st.error().message;
}

}  // namespace

Status validate_topic_configs(RequestContext& ctx, const metadata::ConfigMap& configs) {
  auto normalized = config::normalize_topic_configs(configs);
  if (!normalized.ok()) return normalized.take_error();
  return Status::OK();
}

std::vector<ResolvedConfigEntry> resolve_topic_configs(RequestContext& ctx,
                                                       const metadata::ConfigMap& overrides) {
  std::vector<ResolvedConfigEntry> out;
  for (const auto& r : config::resolve_topic_config(*ctx.broker.config, overrides))
    out.push_back(to_entry(r));
  return out;
}

asio::awaitable<protocol::DescribeConfigsResponse> handle_describe_configs(
    RequestContext& ctx, protocol::DescribeConfigsRequest& req) {
  protocol::DescribeConfigsResponse resp;
  for (const auto& res : req.resources) {
    auto& out = resp.results.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_code = config_auth_error(ctx, res.resource_type, res.resource_name,
                                       security::AclOperation::kDescribeConfigs);
    if (out.error_code != 0) continue;
    std::vector<ResolvedConfigEntry> entries;
    if (res.resource_type == kTopicResource) {
      auto topic = ctx.broker.topics->find(res.resource_name);
      if (!topic) {
        out.error_code = code(protocol::ErrorCode::kUnknownTopicOrPartition);
        out.error_message = "Topic " + res.resource_name + " does not exist";
        continue;
      }
      entries = resolve_topic_configs(ctx, topic->overrides);
    } else if (res.resource_type == kBrokerResource) {
      if (auto st = broker_resource_name_ok(ctx, res.resource_name); !st.ok()) {
        out.error_code = static_cast<int16_t>(st.error().code);
        out.error_message = st.error().message;
        continue;
      }
      // "" describes cluster-wide dynamic defaults, of which there are none.
      if (!res.resource_name.empty()) {
        for (const auto& r : config::describe_broker_config(*ctx.broker.config))
          entries.push_back(to_entry(r));
      }
    } else {
      out.error_code = code(protocol::ErrorCode::kInvalidRequest);
      out.error_message = "Unsupported resource type " + std::to_string(res.resource_type);
      continue;
    }
    for (const auto& e : entries) {
      if (res.configuration_keys.has_value() &&
          std::find(res.configuration_keys->begin(), res.configuration_keys->end(), e.name) ==
              res.configuration_keys->end()) {
        continue;
      }
      auto& c = out.configs.emplace_back();
      c.name = e.name;
      c.value = e.value;
      c.read_only = e.read_only;
      c.is_default = e.is_default;
      c.config_source = e.source;
      c.is_sensitive = e.is_sensitive;
      c.config_type = e.type;
      if (req.include_documentation) c.documentation = e.documentation;
      if (req.include_synonyms) {
        for (const auto& s : e.synonyms) {
          auto& syn = c.synonyms.emplace_back();
          syn.name = s.name;
          syn.value = s.value;
          syn.source = s.source;
        }
      }
    }
  }
  co_return resp;
}

asio::awaitable<protocol::AlterConfigsResponse> handle_alter_configs(RequestContext& ctx,
                                                                     protocol::AlterConfigsRequest& req) {
  protocol::AlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    auto& out = resp.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_code =
        config_auth_error(ctx, res.resource_type, res.resource_name, security::AclOperation::kAlterConfigs);
    if (out.error_code != 0) continue;
    Status st;
    if (res.resource_type == kTopicResource) {
      metadata::ConfigMap configs;
      for (const auto& c : res.configs) {
        if (!c.value.has_value()) {
          st = make_error("Null value not supported for : " + c.name,
                          code(protocol::ErrorCode::kInvalidRequest));
          break;
        }
        configs[c.name] = *c.value;
      }
      if (st.ok()) st = apply_topic_configs(ctx, res.resource_name, configs, req.validate_only);
    } else {
      st = alter_non_topic_resource(ctx, res.resource_type, res.resource_name);
    }
    set_result(out, st);
    if (!req.validate_only)
      audit_admin(ctx, "AlterConfigs", audit::Action::kUpdate, resource_kind(res.resource_type),
                  res.resource_name, out.error_code);
  }
  co_return resp;
}

asio::awaitable<protocol::IncrementalAlterConfigsResponse> handle_incremental_alter_configs(
    RequestContext& ctx, protocol::IncrementalAlterConfigsRequest& req) {
  enum Op : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };
  protocol::IncrementalAlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    auto& out = resp.responses.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_code =
        config_auth_error(ctx, res.resource_type, res.resource_name, security::AclOperation::kAlterConfigs);
    if (out.error_code != 0) continue;
    Status st;
    if (res.resource_type == kTopicResource) {
      auto topic = ctx.broker.topics->find(res.resource_name);
      metadata::ConfigMap configs = known_overrides(topic.get());
      st = validate_topic_name(res.resource_name);
      for (const auto& c : res.configs) {
        if (!st.ok()) break;
        const auto* def = config::find_topic_config_def(c.name);
        if (c.config_operation == kSet) {
          if (!c.value.has_value()) {
            st = make_error("Null value not supported for : " + c.name,
                            code(protocol::ErrorCode::kInvalidRequest));
            break;
          }
          configs[c.name] = *c.value;
        } else if (c.config_operation == kDelete) {
          configs.erase(c.name);
        } else if (c.config_operation == kAppend || c.config_operation == kSubtract) {
          if (!def || def->def.type != config::ConfigType::kList) {
            st = make_error(std::string("Can't ") + (c.config_operation == kAppend ? "APPEND" : "SUBTRACT") +
                                " to key " + c.name + " because its type is not LIST.",
                            code(protocol::ErrorCode::kInvalidConfig));
            break;
          }
          auto current =
              configs.count(c.name) ? config::split_list(configs[c.name]) : std::vector<std::string>{};
          for (const auto& item : config::split_list(c.value.value_or(""))) {
            auto it = std::find(current.begin(), current.end(), item);
            if (c.config_operation == kAppend && it == current.end()) current.push_back(item);
            if (c.config_operation == kSubtract && it != current.end()) current.erase(it);
          }
          std::string joined;
          for (const auto& item : current) joined += (joined.empty() ? "" : ",") + item;
          configs[c.name] = joined;
        } else {
          st = make_error("Unknown config operation " + std::to_string(c.config_operation),
                          code(protocol::ErrorCode::kInvalidRequest));
          break;
        }
      }
      if (st.ok()) st = apply_topic_configs(ctx, res.resource_name, configs, req.validate_only);
    } else {
      st = alter_non_topic_resource(ctx, res.resource_type, res.resource_name);
    }
    set_result(out, st);
    if (!req.validate_only)
      audit_admin(ctx, "IncrementalAlterConfigs", audit::Action::kUpdate, resource_kind(res.resource_type),
                  res.resource_name, out.error_code);
  }
  co_return resp;
}

}  // namespace carelog::server
