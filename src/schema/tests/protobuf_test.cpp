// Protobuf schemas: .proto text and base64 descriptors parse to the same
// canonical text, imports of references and well-known types, message
// indexes, validation of records, and wire compatibility.
#include "schema/protobuf.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "common/base64.h"

namespace carelog::schema::protobuf {
namespace {

std::shared_ptr<const Schema> must(std::string_view text,
                                   const std::vector<std::pair<std::string, std::string>>& refs = {}) {
  auto s = parse(text, refs);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : nullptr;
}

const char* kOrder = R"(syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  int64 id = 1;
  string item = 2;
  google.protobuf.Timestamp at = 3;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 4;
}
message Refund { int64 order_id = 1; }
)";

std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string tag(int field, int wire) { return varint(static_cast<uint64_t>(field) << 3 | wire); }
std::string len(int field, const std::string& body) { return tag(field, 2) + varint(body.size()) + body; }

TEST(ProtobufTest, TextAndSerializedFormsAgree) {
  auto text = must(kOrder);
  ASSERT_NE(text, nullptr);
  EXPECT_NE(text->canonical().find("message Order"), std::string::npos);
  auto again = must(text->serialized());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->canonical(), text->canonical());
  auto reparsed = must(text->canonical());
  ASSERT_NE(reparsed, nullptr);
  EXPECT_EQ(reparsed->canonical(), text->canonical());
  EXPECT_FALSE(parse("message {").ok());
  EXPECT_FALSE(parse("syntax = \"proto3\"; message A { Missing m = 1; }").ok());
  EXPECT_FALSE(parse("not base64 and not proto !!").ok());
}

TEST(ProtobufTest, ImportsResolveToReferences) {
  const char* common = "syntax = \"proto3\"; package common; message Money { int64 cents = 1; }";
  const char* invoice =
      "syntax = \"proto3\"; import \"common/money.proto\"; message Invoice { common.Money total = 1; }";
  EXPECT_FALSE(parse(invoice).ok());
  auto s = must(invoice, {{"common/money.proto", common}});
  ASSERT_NE(s, nullptr);
  // total = { cents: 150 }
  EXPECT_TRUE(validate(*s, std::string(1, '\0') + len(1, tag(1, 0) + varint(150))).ok());
}

TEST(ProtobufTest, ValidatesRecordsByMessageIndexes) {
  auto s = must(kOrder);
  ASSERT_NE(s, nullptr);
  const std::string order =
      tag(1, 0) + varint(7) + len(2, "gauze") + len(4, len(1, "A-1") + tag(2, 0) + varint(3));
  EXPECT_TRUE(validate(*s, std::string(1, '\0') + order).ok());  // [0]: Order
  // [1]: Refund (count 1, index 1; zigzag doubles).
  EXPECT_TRUE(validate(*s, varint(2) + varint(2) + tag(1, 0) + varint(7)).ok());
  // [0, 0]: Order.Line
  auto m = s->message_of(varint(4) + varint(0) + varint(0));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->first->full_name(), "shop.Order.Line");
  auto out_of_range = validate(*s, varint(2) + varint(4) + order);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.error().message.find("out of range"), std::string::npos);
  // Truncated length-delimited field.
  EXPECT_FALSE(validate(*s, std::string(1, '\0') + tag(2, 2) + varint(10) + "abc").ok());
  // Field 2 (string) sent as a varint: the wrong wire type.
  auto wrong = validate(*s, std::string(1, '\0') + tag(2, 0) + varint(1));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("shop.Order.item"), std::string::npos) << wrong.error().message;
  // Invalid UTF-8 in a proto3 string.
  EXPECT_FALSE(validate(*s, std::string(1, '\0') + len(2, "\xff\xfe")).ok());
  // A field number the schema does not know is fine (a newer writer).
  EXPECT_TRUE(validate(*s, std::string(1, '\0') + tag(99, 0) + varint(1)).ok());
}

TEST(ProtobufTest, Proto2RequiredFields) {
  auto s = must("syntax = \"proto2\"; message P { required string id = 1; optional int32 n = 2; }");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(validate(*s, std::string(1, '\0') + len(1, "x")).ok());
  auto missing = validate(*s, std::string(1, '\0') + tag(2, 0) + varint(1));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("required"), std::string::npos);
}

std::vector<std::string> compat(std::string_view reader, std::string_view writer) {
  auto r = must(reader);
  auto w = must(writer);
  if (!r || !w) return {"parse failed"};
  return check_compatible(*r, *w);
}

TEST(ProtobufTest, WireCompatibility) {
  const char* v1 = "syntax = \"proto3\"; message M { int32 a = 1; string b = 2; }";
  // Adding and removing fields, renaming, int32 -> int64: compatible.
  EXPECT_TRUE(
      compat("syntax = \"proto3\"; message M { int64 a = 1; string b = 2; bool c = 3; }", v1).empty());
  EXPECT_TRUE(compat("syntax = \"proto3\"; message M { int32 renamed = 1; }", v1).empty());
  EXPECT_TRUE(compat("syntax = \"proto3\"; message M { int32 a = 1; bytes b = 2; }", v1).empty());
  // Different wire encodings.
  auto kind = compat("syntax = \"proto3\"; message M { double a = 1; string b = 2; }", v1);
  ASSERT_EQ(kind.size(), 1u);
  EXPECT_NE(kind[0].find("FIELD_KIND_CHANGED"), std::string::npos) << kind[0];
  EXPECT_FALSE(compat("syntax = \"proto3\"; message M { repeated int32 a = 1; string b = 2; }", v1).empty());
  EXPECT_FALSE(
      compat("syntax = \"proto3\"; message M { oneof o { int32 a = 1; } string b = 2; }", v1).empty());
  // A message removed.
  EXPECT_FALSE(compat("syntax = \"proto3\"; message N { int32 a = 1; }", v1).empty());
  // Nested message types are compared too.
  EXPECT_FALSE(compat("syntax = \"proto3\"; message M { message I { string x = 1; } I i = 1; }",
                      "syntax = \"proto3\"; message M { message I { int32 x = 1; } I i = 1; }")
                   .empty());
}

}  // namespace
}  // namespace carelog::schema::protobuf
