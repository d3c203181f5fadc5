#include "registry/formats.h"

#include <fmt/core.h>

#include "registry/errors.h"
#include "schema/avro.h"
#include "schema/json_schema.h"
#include "schema/protobuf.h"

namespace carelog::registry {
namespace {

class AvroSchema final : public ParsedSchema {
 public:
  explicit AvroSchema(std::shared_ptr<const schema::avro::Schema> s) : s_(std::move(s)) {}
  std::string_view type() const override { return "AVRO"; }
  std::string canonical() const override { return s_->canonical(); }
  std::string normalized() const override { return s_->normalized(); }
  std::vector<std::string> can_read(const ParsedSchema& writer) const override {
    const auto* w = dynamic_cast<const AvroSchema*>(&writer);
    if (w == nullptr) return {"the schemas are of different types"};
    return schema::avro::check_compatible(*s_, *w->s_);
  }
  Status validate(std::string_view payload) const override {
    return schema::avro::validate_binary(*s_, payload);
  }
  Result<std::string> record_name(std::string_view) const override {
    const auto& root = s_->node(s_->root());
    if (root.full_name.empty()) return make_error("the schema's root is not a named type");
    return root.full_name;
  }

 private:
  std::shared_ptr<const schema::avro::Schema> s_;
};

class JsonSchema final : public ParsedSchema {
 public:
  explicit JsonSchema(std::shared_ptr<const schema::jsonschema::Schema> s) : s_(std::move(s)) {}
  std::string_view type() const override { return "JSON"; }
  std::string canonical() const override { return s_->canonical(); }
  std::string normalized() const override { return s_->normalized(); }
  std::vector<std::string> can_read(const ParsedSchema& writer) const override {
    const auto* w = dynamic_cast<const JsonSchema*>(&writer);
    if (w == nullptr) return {"the schemas are of different types"};
    return schema::jsonschema::check_compatible(*s_, *w->s_);
  }
  Status validate(std::string_view payload) const override {
    return schema::jsonschema::validate_text(*s_, payload);
  }
  Result<std::string> record_name(std::string_view) const override {
    const auto& root = s_->root();
    if (root.is_object())
      if (auto t = root.find("title"); t != root.end() && t->is_string() && !t->get<std::string>().empty())
        return t->get<std::string>();
    return make_error("the schema has no \"title\" to name its record type");
  }

 private:
  std::shared_ptr<const schema::jsonschema::Schema> s_;
};

class ProtobufSchema final : public ParsedSchema {
 public:
  explicit ProtobufSchema(std::shared_ptr<const schema::protobuf::Schema> s) : s_(std::move(s)) {}
  std::string_view type() const override { return "PROTOBUF"; }
  std::string canonical() const override { return s_->canonical(); }
  std::string normalized() const override { return s_->canonical(); }
  std::vector<std::string> can_read(const ParsedSchema& writer) const override {
    const auto* w = dynamic_cast<const ProtobufSchema*>(&writer);
    if (w == nullptr) return {"the schemas are of different types"};
    return schema::protobuf::check_compatible(*s_, *w->s_);
  }
  Status validate(std::string_view payload) const override {
    return schema::protobuf::validate(*s_, payload);
  }
  Result<std::string> record_name(std::string_view payload) const override;
  std::string formatted(std::string_view format) const override {
    return format == "serialized" ? s_->serialized() : s_->canonical();
  }

 private:
  std::shared_ptr<const schema::protobuf::Schema> s_;
};

// Declared out of line: the descriptor's full_name needs the full header.
Result<std::string> ProtobufSchema::record_name(std::string_view payload) const {
  auto m = s_->message_of(payload);
  if (!m.ok()) return m.take_error();
  return schema::protobuf::message_full_name(*m->first);
}

}  // namespace

const std::vector<std::string>& schema_types() {
  static const std::vector<std::string> kTypes = {"AVRO", "JSON", "PROTOBUF"};
  return kTypes;
}

bool known_schema_type(std::string_view type) {
  for (const auto& t : schema_types())
    if (t == type) return true;
  return false;
}

Result<std::shared_ptr<const ParsedSchema>> parse_schema(std::string_view type, std::string_view text,
                                                         const std::vector<ResolvedReference>& references) {
  if (type == "AVRO") {
    std::vector<std::string> texts;
    for (const auto& r : references) {
      if (r.schema_type != "AVRO")
        return Error{kInvalidSchema, fmt::format("reference '{}' is not an Avro schema", r.name)};
      texts.push_back(r.schema);
    }
    auto s = schema::avro::parse(text, texts);
    if (!s.ok()) return Error{kInvalidSchema, "Invalid schema: " + s.error().message};
    return std::shared_ptr<const ParsedSchema>(std::make_shared<AvroSchema>(std::move(*s)));
  }
  if (type == "JSON" || type == "PROTOBUF") {
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& r : references) {
      if (r.schema_type != type)
        return Error{kInvalidSchema,
                     fmt::format("reference '{}' is a {} schema, not {}", r.name, r.schema_type, type)};
      named.emplace_back(r.name, r.schema);
    }
    if (type == "JSON") {
      auto s = schema::jsonschema::parse(text, named);
      if (!s.ok()) return Error{kInvalidSchema, "Invalid schema: " + s.error().message};
      return std::shared_ptr<const ParsedSchema>(std::make_shared<JsonSchema>(std::move(*s)));
    }
    auto s = schema::protobuf::parse(text, named);
    if (!s.ok()) return Error{kInvalidSchema, "Invalid schema: " + s.error().message};
    return std::shared_ptr<const ParsedSchema>(std::make_shared<ProtobufSchema>(std::move(*s)));
  }
  return Error{kInvalidSchema, fmt::format("Invalid schema type {}", type)};
}

}  // namespace carelog::registry
