#include "registry/validators.h"

#include <fmt/core.h>

#include <map>
#include <mutex>

namespace carelog::registry {
namespace {

using Clock = std::chrono::steady_clock;

class SchemaIdValidator final : public schema::Validator {
 public:
  SchemaIdValidator(std::shared_ptr<Registry> registry, std::string topic, bool is_key,
                    schema::SubjectNameStrategy strategy, bool check_payload)
      : registry_(std::move(registry)),
        topic_(std::move(topic)),
        is_key_(is_key),
        strategy_(strategy),
        check_payload_(check_payload) {}

  std::optional<std::string> validate(const schema::RecordRef& record) const override {
    auto where = locate(record);
    if (!where.ok()) return where.error().message;
    const int32_t id = where->id;
    const std::string_view payload = where->payload;
    std::shared_ptr<const ParsedSchema> schema;
    if (check_payload_ || strategy_ != schema::SubjectNameStrategy::kTopic) {
      auto parsed = registry_->parsed(id);
      if (!parsed.ok()) return fmt::format("schema id {}: {}", id, parsed.error().message);
      schema = *parsed;
    }
    std::string subject = topic_subject(topic_, is_key_);
    if (strategy_ != schema::SubjectNameStrategy::kTopic) {
      auto name = schema->record_name(payload);
      if (!name.ok())
        return fmt::format("schema id {}: no record name for {}: {}", id,
                           schema::subject_strategy_name(strategy_), name.error().message);
      subject =
          strategy_ == schema::SubjectNameStrategy::kRecord ? *name : fmt::format("{}-{}", topic_, *name);
    }
    if (!member(id, subject)) {
      auto has = registry_->subject_has_id(subject, id);
      if (!has.ok()) return fmt::format("schema id {}: registry unavailable: {}", id, has.error().message);
      if (!*has) return fmt::format("schema id {}: not a schema of subject '{}'", id, subject);
      remember(id, subject);
    }
    if (!check_payload_) return std::nullopt;
    // A header id carries Protobuf's message indexes in the header; the
    // schema reads them in front of the message, as in the payload form.
    Status st = where->indexes.empty() ? schema->validate(payload)
                                       : schema->validate(std::string(where->indexes).append(payload));
    if (!st.ok()) return fmt::format("schema id {}: {}", id, st.error().message);
    return std::nullopt;
  }

 private:
  struct Located {
    int32_t id = 0;
    std::string_view payload;  // the serialized data (Protobuf: with its indexes unless in `indexes`)
    std::string_view indexes;  // Protobuf message indexes carried by a header id
  };

  // The schema id of a record: the `__value_schema_id` / `__key_schema_id`
  // header when present (magic 1 + GUID, or magic 0 + 4-byte id, then
  // Protobuf message indexes; the data is the whole key or value), else the
  // payload prefix (magic 0 + 4-byte id, or magic 1 + GUID).
  Result<Located> locate(const schema::RecordRef& record) const {
    const std::string_view header_key = is_key_ ? kKeySchemaIdHeader : kValueSchemaIdHeader;
    for (const auto& h : record.headers) {
      if (h.key != header_key) continue;
      if (!h.value) return make_error(fmt::format("schema id: header {} is null", header_key));
      auto id = prefixed_id(*h.value, fmt::format("header {}", header_key));
      if (!id.ok()) return id.take_error();
      return Located{id->first, record.data, h.value->substr(id->second)};
    }
    auto id = prefixed_id(record.data, "the value");
    if (!id.ok()) return id.take_error();
    return Located{id->first, record.data.substr(id->second), {}};
  }

  // (id, bytes used) of a wire-format id at the start of `d`.
  Result<std::pair<int32_t, size_t>> prefixed_id(std::string_view d, const std::string& what) const {
    if (!d.empty() && d[0] == 1) {
      auto g = guid_from_bytes(d.substr(1));
      if (!g) return make_error(fmt::format("schema id: {} has magic byte 1 but no 16-byte GUID", what));
      auto id = registry_->id_of_guid(*g);
      if (!id.ok()) return make_error(fmt::format("schema id: registry unavailable: {}", id.error().message));
      if (!*id)
        return make_error(fmt::format("schema guid {}: not a schema of this registry", guid_string(*g)));
      return std::pair<int32_t, size_t>{**id, 17};
    }
    if (d.size() < 5)
      return make_error(
          "schema id: not in the schema registry wire format (magic byte 0 and a 4-byte schema id, magic "
          "byte 1 and a GUID, or a " +
          std::string(is_key_ ? kKeySchemaIdHeader : kValueSchemaIdHeader) + " header)");
    if (d[0] != 0)
      return make_error(fmt::format("schema id: unknown magic byte {}", static_cast<unsigned char>(d[0])));
    const auto id = static_cast<int32_t>((static_cast<uint32_t>(static_cast<unsigned char>(d[1])) << 24) |
                                         (static_cast<uint32_t>(static_cast<unsigned char>(d[2])) << 16) |
                                         (static_cast<uint32_t>(static_cast<unsigned char>(d[3])) << 8) |
                                         static_cast<uint32_t>(static_cast<unsigned char>(d[4])));
    return std::pair<int32_t, size_t>{id, 5};
  }

  bool member(int32_t id, const std::string& subject) const {
    std::lock_guard lock(mu_);
    auto it = members_.find({id, subject});
    return it != members_.end() && Clock::now() < it->second;
  }
  void remember(int32_t id, const std::string& subject) const {
    std::lock_guard lock(mu_);
    if (members_.size() > 4096) members_.clear();
    members_[{id, subject}] = Clock::now() + kMembershipTtl;
  }

  std::shared_ptr<Registry> registry_;
  const std::string topic_;
  const bool is_key_;
  const schema::SubjectNameStrategy strategy_;
  const bool check_payload_;
  mutable std::mutex mu_;
  mutable std::map<std::pair<int32_t, std::string>, Clock::time_point> members_;  // guarded by mu_
};

}  // namespace

std::string topic_subject(std::string_view topic, bool is_key) {
  return fmt::format("{}-{}", topic, is_key ? "key" : "value");
}

Result<std::shared_ptr<const schema::Validator>> RegistryValidatorFactory::make(
    schema::ValidationMode mode, const schema::ValidationConfig& config, std::string_view topic,
    bool is_key) const {
  if (mode != schema::ValidationMode::kSchemaId && mode != schema::ValidationMode::kSchema)
    return builtin_.make(mode, config, topic, is_key);
  return std::shared_ptr<const schema::Validator>(std::make_shared<SchemaIdValidator>(
      registry_, std::string(topic), is_key,
      is_key ? config.key_subject_strategy : config.value_subject_strategy,
      mode == schema::ValidationMode::kSchema));
}

}  // namespace carelog::registry
