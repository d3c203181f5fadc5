#include "registry/formats.h"

#include <fmt/core.h>

#include "registry/errors.h"
#include "schema/avro.h"

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

 private:
  std::shared_ptr<const schema::avro::Schema> s_;
};

}  // namespace

const std::vector<std::string>& schema_types() {
  static const std::vector<std::string> kTypes = {"AVRO"};
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
  return Error{kInvalidSchema, fmt::format("Invalid schema type {}", type)};
}

}  // namespace carelog::registry
