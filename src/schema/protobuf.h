// Protobuf schemas as the registry sees them (schemaType "PROTOBUF"), on
// libprotobuf's descriptors: parsing a schema given as .proto text or as a
// base64 FileDescriptorProto (what confluent-kafka-python registers), the
// stored form (.proto text), the `format=serialized` form (base64
// FileDescriptorProto), wire compatibility between a reader and a writer
// schema, and validation of records in the registry's Protobuf framing
// (message indexes, then the message).
//
// Imports resolve to the references (by import path) and to the
// well-known types built into libprotobuf (google/protobuf/*.proto).
//
// Immutable after parsing; safe to share between threads (descriptor
// lookups and DynamicMessageFactory::GetPrototype are thread-safe).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace google::protobuf {
class DescriptorPool;
class Descriptor;
class FileDescriptor;
class DynamicMessageFactory;
}  // namespace google::protobuf

namespace carelog::schema::protobuf {

class Schema {
 public:
  ~Schema();
  const google::protobuf::FileDescriptor& file() const { return *file_; }
  // The stored form: .proto text as libprotobuf prints the descriptor.
  const std::string& canonical() const { return canonical_; }
  // Base64 of the FileDescriptorProto (Confluent's format=serialized).
  std::string serialized() const;
  // The message the record's indexes select, and the bytes after them.
  Result<std::pair<const google::protobuf::Descriptor*, std::string_view>> message_of(
      std::string_view payload) const;

 private:
  friend Result<std::shared_ptr<const Schema>> parse(std::string_view,
                                                     const std::vector<std::pair<std::string, std::string>>&);
  friend Status validate(const Schema&, std::string_view);
  Schema();
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  const google::protobuf::FileDescriptor* file_ = nullptr;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  std::string canonical_;
};

// The fully-qualified name of a message ("shop.Order.Line").
std::string message_full_name(const google::protobuf::Descriptor& message);

// Parses `text` (.proto text, or base64 of a FileDescriptorProto);
// `references` are (import path, text) in dependency order. Errors (code
// -1) name the line and column for text.
Result<std::shared_ptr<const Schema>> parse(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& references = {});

// `payload`: the record after magic byte and schema id, i.e. the message
// indexes (Confluent's zigzag varints; a single 0 = the first message) and
// the message in protobuf binary. Fails on malformed wire data, a field
// whose wire type does not match its declaration, invalid UTF-8 in a
// proto3 string, or a missing proto2 required field.
Status validate(const Schema& schema, std::string_view payload);

// Can data written with `writer` be read with `reader`? Reasons it cannot
// (empty: compatible): a message of the writer missing from the reader, a
// field number whose type changed between incompatible wire encodings, a
// field made repeated or singular, moved into or out of a oneof, or a
// proto2 required field the writer lacks; also a changed syntax.
std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer);

}  // namespace carelog::schema::protobuf
