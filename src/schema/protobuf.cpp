// Protobuf schemas: parsing (.proto text through libprotoc's parser, or a
// base64 FileDescriptorProto), building descriptors over the references and
// the well-known types, and validating records. Compatibility is
// protobuf_compat.cpp.
#include "schema/protobuf.h"

#include <fmt/core.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>

#include <mutex>

#include "common/base64.h"

namespace carelog::schema::protobuf {
namespace gp = google::protobuf;

namespace {

constexpr const char* kRootName = "schema.proto";
constexpr size_t kMaxIndexes = 64;

// libprotobuf logs parse failures of messages (e.g. invalid UTF-8) to
// stderr; records are untrusted and refusals are answered, not logged.
void quiet_libprotobuf() {
  static std::once_flag once;
  std::call_once(once, [] { gp::SetLogHandler([](gp::LogLevel, const char*, int, const std::string&) {}); });
}

class TextErrors final : public gp::io::ErrorCollector {
 public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) first = fmt::format("line {}:{}: {}", line + 1, column + 1, message);
  }
  std::string first;
};

class BuildErrors final : public gp::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element, const gp::Message*, ErrorLocation,
                const std::string& message) override {
    if (first.empty()) first = element.empty() ? message : fmt::format("{}: {}", element, message);
  }
  std::string first;
};

// .proto text, or base64 of a serialized FileDescriptorProto.
Result<gp::FileDescriptorProto> to_proto(std::string_view text, const std::string& name) {
  gp::FileDescriptorProto proto;
  {
    gp::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
    TextErrors errors;
    gp::io::Tokenizer tokenizer(&input, &errors);
    gp::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (parser.Parse(&tokenizer, &proto) && errors.first.empty()) {
      proto.set_name(name);
      return proto;
    }
    // Not .proto text: perhaps a serialized descriptor.
    std::string_view trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.remove_suffix(1);
    auto bytes = base64_decode(trimmed);
    if (bytes && !bytes->empty()) {
      gp::FileDescriptorProto from_binary;
      if (from_binary.ParseFromArray(bytes->data(), static_cast<int>(bytes->size()))) {
        from_binary.set_name(name);
        return from_binary;
      }
    }
    return Error{-1, errors.first.empty() ? std::string("not a .proto file") : errors.first};
  }
}

// Zigzag varint as Confluent writes message indexes.
bool read_zigzag(std::string_view& in, int64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
      return true;
    }
  }
  return false;
}

// A field of the schema that arrived with another wire type is kept by
// libprotobuf as an unknown field; for validation that is an error. Unknown
// numbers (fields of a newer writer) are fine.
Status check_wire_types(const gp::Message& m, const std::string& path, int depth) {
  if (depth > 100) return Error{-1, path + ": nested too deeply"};
  const gp::Descriptor* d = m.GetDescriptor();
  const gp::Reflection* r = m.GetReflection();
  const gp::UnknownFieldSet& unknown = r->GetUnknownFields(m);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const gp::FieldDescriptor* f = d->FindFieldByNumber(unknown.field(i).number());
    if (f != nullptr)
      return Error{-1, fmt::format("{}.{}: wire type does not match the declared type {}", path, f->name(),
                                   f->type_name())};
  }
  std::vector<const gp::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const gp::FieldDescriptor* f : fields) {
    if (f->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i)
        CARELOG_RETURN_IF_ERROR(check_wire_types(r->GetRepeatedMessage(m, f, i),
                                                 fmt::format("{}.{}[{}]", path, f->name(), i), depth + 1));
    } else {
      CARELOG_RETURN_IF_ERROR(check_wire_types(r->GetMessage(m, f), path + "." + f->name(), depth + 1));
    }
  }
  return Status::OK();
}

}  // namespace

std::string message_full_name(const gp::Descriptor& message) { return message.full_name(); }

Schema::Schema() = default;
Schema::~Schema() = default;

std::string Schema::serialized() const {
  gp::FileDescriptorProto proto;
  file_->CopyTo(&proto);
  std::string bytes = proto.SerializeAsString();
  return base64_encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Result<std::pair<const gp::Descriptor*, std::string_view>> Schema::message_of(
    std::string_view payload) const {
  int64_t count = 0;
  if (!read_zigzag(payload, &count) || count < 0 || static_cast<uint64_t>(count) > kMaxIndexes)
    return Error{-1, "malformed message indexes"};
  if (file_->message_type_count() == 0) return Error{-1, "the schema defines no message"};
  const gp::Descriptor* m = nullptr;
  if (count == 0) {
    m = file_->message_type(0);
  } else {
    for (int64_t i = 0; i < count; ++i) {
      int64_t index = 0;
      if (!read_zigzag(payload, &index)) return Error{-1, "malformed message indexes"};
      const int n = m == nullptr ? file_->message_type_count() : m->nested_type_count();
      if (index < 0 || index >= n) return Error{-1, fmt::format("message index {} out of range", index)};
      m = m == nullptr ? file_->message_type(static_cast<int>(index))
                       : m->nested_type(static_cast<int>(index));
    }
  }
  return std::make_pair(m, payload);
}

Result<std::shared_ptr<const Schema>> parse(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& references) {
  quiet_libprotobuf();
  std::shared_ptr<Schema> out(new Schema());
  out->pool_ = std::make_unique<gp::DescriptorPool>(gp::DescriptorPool::generated_pool());
  for (const auto& [name, ref_text] : references) {
    if (out->pool_->FindFileByName(name) != nullptr) continue;  // a well-known type, or listed twice
    auto proto = to_proto(ref_text, name);
    if (!proto.ok()) return Error{-1, fmt::format("reference '{}': {}", name, proto.error().message)};
    BuildErrors errors;
    if (out->pool_->BuildFileCollectingErrors(*proto, &errors) == nullptr)
      return Error{-1, fmt::format("reference '{}': {}", name, errors.first)};
  }
  auto proto = to_proto(text, kRootName);
  if (!proto.ok()) return proto.take_error();
  BuildErrors errors;
  out->file_ = out->pool_->BuildFileCollectingErrors(*proto, &errors);
  if (out->file_ == nullptr) return Error{-1, errors.first.empty() ? "invalid schema" : errors.first};
  out->factory_ = std::make_unique<gp::DynamicMessageFactory>(out->pool_.get());
  out->canonical_ = out->file_->DebugString();
  return std::shared_ptr<const Schema>(std::move(out));
}

Status validate(const Schema& schema, std::string_view payload) {
  auto at = schema.message_of(payload);
  if (!at.ok()) return Error{-1, "protobuf: " + at.error().message};
  const auto [descriptor, bytes] = *at;
  const gp::Message* prototype = schema.factory_->GetPrototype(descriptor);
  std::unique_ptr<gp::Message> message(prototype->New());
  if (!message->ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Error{-1, fmt::format("{}: not a valid message (malformed wire data or invalid UTF-8 in a string)",
                                 descriptor->full_name())};
  CARELOG_RETURN_IF_ERROR(check_wire_types(*message, descriptor->full_name(), 0));
  if (!message->IsInitialized())
    return Error{-1, fmt::format("{}: required field missing: {}", descriptor->full_name(),
                                 message->InitializationErrorString())};
  return Status::OK();
}

}  // namespace carelog::schema::protobuf
