// What Metadata, DescribeCluster and FindCoordinator report about the
// brokers: in cluster mode every live broker's endpoint for the listener
// the client is connected to (as Kafka does), else this broker alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "server/request_context.h"

namespace carelog::server {

struct BrokerView {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

inline std::vector<BrokerView> visible_brokers(RequestContext& ctx) {
  std::vector<BrokerView> out;
  const int32_t self = ctx.broker.options.node_id;
  if (!ctx.broker.cluster) {
    out.push_back(BrokerView{self, ctx.session.advertised_host, ctx.session.advertised_port, std::nullopt});
    return out;
  }
  bool self_listed = false;
  for (const auto& b : ctx.broker.cluster->live_brokers()) {
    if (b.node_id == self) {
      out.push_back(BrokerView{self, ctx.session.advertised_host, ctx.session.advertised_port, b.rack});
      self_listed = true;
      continue;
    }
    for (const auto& e : cluster::parse_endpoints(b.endpoints)) {
      if (e.listener != ctx.session.listener_name) continue;
      out.push_back(BrokerView{b.node_id, e.host, e.port, b.rack});
      break;
    }
  }
  if (!self_listed)
    out.insert(out.begin(),
               BrokerView{self, ctx.session.advertised_host, ctx.session.advertised_port, std::nullopt});
  return out;
}

inline std::optional<BrokerView> find_broker(RequestContext& ctx, int32_t node_id) {
  for (auto& b : visible_brokers(ctx))
    if (b.node_id == node_id) return b;
  return std::nullopt;
}

inline int32_t controller_node(RequestContext& ctx) {
  return ctx.broker.cluster ? ctx.broker.cluster->controller_id() : ctx.broker.options.node_id;
}

}  // namespace carelog::server
