#include "audit/event_json.h"

#include <fmt/format.h>

#include <ctime>

namespace carelog::audit {
namespace {

std::string_view category_display(Category c) {
  switch (c) {
    case Category::kAuthentication:
      return "Authentication";
    case Category::kAuthorization:
      return "Authorization decision";
    case Category::kAdmin:
      return "Administrative change";
    case Category::kDataAccess:
      return "Data access";
  }
  return "Unknown";
}

// "ip:port" or "[v6]:port" -> "ip" / "v6" (FHIR network.address is a host).
std::string host_of(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close != std::string_view::npos) return std::string(address.substr(1, close - 1));
  }
  auto colon = address.rfind(':');
  if (colon != std::string_view::npos && address.find(':') == colon)
    return std::string(address.substr(0, colon));
  return std::string(address);
}

void field(std::string& out, std::string_view name, std::string_view value) {
  append_json_string(out, name);
  out += ':';
  append_json_string(out, value);
}

void detail(std::string& out, bool& first, std::string_view type, std::string_view value) {
  out += first ? "" : ",";
  first = false;
  out += '{';
  field(out, "type", type);
  out += ',';
  field(out, "valueString", value);
  out += '}';
}

}  // namespace

std::string_view category_code(Category category) {
  switch (category) {
    case Category::kAuthentication:
      return "authentication";
    case Category::kAuthorization:
      return "authorization";
    case Category::kAdmin:
      return "admin";
    case Category::kDataAccess:
      return "data-access";
  }
  return "unknown";
}

std::string format_recorded(int64_t epoch_ms) {
  int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  int64_t millis = epoch_ms - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string encode_event(const AuditEvent& e, int64_t recorded_ms, const Observer& observer, uint64_t seq,
                         std::string_view prev) {
  std::string out;
  out.reserve(768);
  out += "{\"resourceType\":\"AuditEvent\",\"seq\":";
  out += std::to_string(seq);
  out += ',';
  field(out, "prev", prev);
  // type: the event category; subtype: the Kafka API or operation.
  out += ",\"type\":{\"system\":\"https://carelog.dev/fhir/audit-category\",";
  field(out, "code", category_code(e.category));
  out += ',';
  field(out, "display", category_display(e.category));
  out += "},\"subtype\":[{\"system\":\"https://kafka.apache.org/protocol#api\",";
  field(out, "code", e.api);
  out += "}],";
  field(out, "action", std::string(1, static_cast<char>(e.action)));
  out += ',';
  field(out, "recorded", format_recorded(recorded_ms));
  out += ',';
  field(out, "outcome", std::to_string(static_cast<int>(e.outcome)));
  if (!e.outcome_detail.empty()) {
    out += ',';
    field(out, "outcomeDesc", e.outcome_detail);
  }
  // agent: who asked, from where, with which client id.
  out +=
      ",\"agent\":[{\"type\":{\"system\":\"http://terminology.hl7.org/CodeSystem/extra-security-role-type\","
      "\"code\":\"humanuser\"},\"who\":{\"identifier\":{\"system\":\"https://kafka.apache.org/principal\",";
  field(out, "value",
        e.principal.empty() ? std::string_view("User:ANONYMOUS") : std::string_view(e.principal));
  out += "}}";
  if (!e.client_id.empty()) {
    out += ',';
    field(out, "altId", e.client_id);
    out += ',';
    field(out, "name", e.client_id);
  }
  out += ",\"requestor\":true";
  if (!e.client_address.empty()) {
    out += ",\"network\":{";
    field(out, "address", host_of(e.client_address));
    out += ",\"type\":\"2\"}";
  }
  if (!e.client_address.empty() || !e.listener.empty()) {
    out += ",\"extension\":[";
    bool first = true;
    if (!e.client_address.empty()) {
      out += "{\"url\":\"https://carelog.dev/fhir/client-address\",";
      field(out, "valueString", e.client_address);
      out += '}';
      first = false;
    }
    if (!e.listener.empty()) {
      out += first ? "{" : ",{";
      out += "\"url\":\"https://carelog.dev/fhir/listener\",";
      field(out, "valueString", e.listener);
      out += '}';
    }
    out += ']';
  }
  out += "}]";
  // source: the observing broker.
  out += ",\"source\":{";
  field(out, "site", observer.cluster_id);
  out += ",\"observer\":{\"identifier\":{\"system\":\"https://carelog.dev/fhir/node-id\",";
  field(out, "value", std::to_string(observer.node_id));
  out += "},";
  field(out, "display", fmt::format("carelogd node {}", observer.node_id));
  out +=
      "},\"type\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/security-source-type\","
      "\"code\":\"4\",\"display\":\"Application Server\"}]}";
  // entity: what was touched.
  if (!e.resource_type.empty() || !e.resource_name.empty()) {
    out += ",\"entity\":[{\"what\":{\"identifier\":{";
    field(out, "system", "https://carelog.dev/fhir/" + e.resource_type);
    out += ',';
    field(out, "value", e.resource_name);
    out += "}},\"type\":{\"system\":\"https://carelog.dev/fhir/resource-type\",";
    field(out, "code", e.resource_type);
    out += "},";
    field(out, "name", e.resource_name);
    if (e.partition >= 0 || e.first_offset >= 0 || e.bytes >= 0) {
      out += ",\"detail\":[";
      bool first = true;
      if (e.partition >= 0) detail(out, first, "partition", std::to_string(e.partition));
      if (e.first_offset >= 0) {
        detail(out, first, "offsetRange",
               fmt::format("{}-{}", e.first_offset, std::max(e.first_offset, e.last_offset)));
      }
      if (e.bytes >= 0) detail(out, first, "bytes", std::to_string(e.bytes));
      out += ']';
    }
    out += "}]";
  }
  out += '}';
  return out;
}

}  // namespace carelog::audit
