#include "schema/avro.h"

#include <gtest/gtest.h>

namespace carelog::schema::avro {
namespace {

std::shared_ptr<const Schema> must(const std::string& text, const std::vector<std::string>& refs = {}) {
  auto s = parse(text, refs);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message) << " for " << text;
  return s.ok() ? *s : nullptr;
}

bool compatible(const std::string& reader, const std::string& writer) {
  auto r = must(reader), w = must(writer);
  return check_compatible(*r, *w).empty();
}

const char* kV1 = R"({"type":"record","name":"Obs","namespace":"care","fields":[
  {"name":"id","type":"string"},{"name":"value","type":"int"}]})";

TEST(AvroParse, CanonicalIsCompactWithFullNames) {
  auto s = must(kV1);
  EXPECT_EQ(
      s->canonical(),
      R"({"type":"record","name":"care.Obs","fields":[{"name":"id","type":"string"},{"name":"value","type":"int"}]})");
  // Whitespace and the namespace spelling do not change the canonical text.
  auto t = must(R"({"name":"care.Obs","type":"record","fields":[{"type":"string","name":"id"},
                    {"name":"value","type":{"type":"int"}}]})");
  EXPECT_EQ(s->canonical(), t->canonical());
  // The canonical text parses to itself.
  EXPECT_EQ(must(s->canonical())->canonical(), s->canonical());
}

TEST(AvroParse, NormalizedSortsCustomAttributes) {
  auto a = must(R"({"type":"string","b":1,"a":2})");
  auto b = must(R"({"type":"string","a":2,"b":1})");
  EXPECT_NE(a->canonical(), b->canonical());
  EXPECT_EQ(a->normalized(), b->normalized());
}

TEST(AvroParse, RejectsInvalidSchemas) {
  for (const char* bad : {
           "",
           "{",
           "42",
           R"("nosuch")",
           R"({"type":"record","fields":[]})",
           R"({"type":"record","name":"1x","fields":[]})",
           R"({"type":"record","name":"R"})",
           R"({"type":"record","name":"R","fields":[{"name":"a"}]})",
           R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]})",
           R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]})",
           R"({"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":1}]})",
           R"({"type":"enum","name":"E","symbols":["A","A"]})",
           R"({"type":"enum","name":"E","symbols":["A"],"default":"B"})",
           R"({"type":"fixed","name":"F"})",
           R"(["int","int"])",
           R"(["int",["null"]])",
           R"({"type":"array"})",
           R"([{"type":"record","name":"R","fields":[]},{"type":"record","name":"R","fields":[]}])",
       }) {
    EXPECT_FALSE(parse(bad).ok()) << bad;
  }
}

TEST(AvroParse, RecursiveTypesAndReferences) {
  auto s = must(R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})");
  EXPECT_EQ(s->canonical(),
            R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})");
  const std::string addr =
      R"({"type":"record","name":"care.Address","fields":[{"name":"city","type":"string"}]})";
  auto p = must(R"({"type":"record","name":"care.Patient","fields":[{"name":"home","type":"care.Address"}]})",
                {addr});
  // A referenced type stays a name: the reference carries its definition.
  EXPECT_EQ(p->canonical(),
            R"({"type":"record","name":"care.Patient","fields":[{"name":"home","type":"care.Address"}]})");
  EXPECT_FALSE(
      parse(R"({"type":"record","name":"P","fields":[{"name":"home","type":"care.Address"}]})").ok());
}

TEST(AvroCompat, FieldsAndDefaults) {
  const char* added_with_default = R"({"type":"record","name":"Obs","namespace":"care","fields":[
    {"name":"id","type":"string"},{"name":"value","type":"int"},{"name":"unit","type":"string","default":"mg"}]})";
  const char* added_without_default = R"({"type":"record","name":"Obs","namespace":"care","fields":[
    {"name":"id","type":"string"},{"name":"value","type":"int"},{"name":"unit","type":"string"}]})";
  EXPECT_TRUE(compatible(added_with_default, kV1));      // new reads old: the default fills in
  EXPECT_FALSE(compatible(added_without_default, kV1));  // READER_FIELD_MISSING_DEFAULT_VALUE
  EXPECT_TRUE(compatible(kV1, added_without_default));   // old reads new: the extra field is skipped
  auto r = must(added_without_default);
  auto msgs = check_compatible(*r, *must(kV1));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find("READER_FIELD_MISSING_DEFAULT_VALUE at /fields/unit"), std::string::npos) << msgs[0];
}

TEST(AvroCompat, PromotionsAndMismatches) {
  EXPECT_TRUE(compatible(R"("long")", R"("int")"));
  EXPECT_TRUE(compatible(R"("double")", R"("float")"));
  EXPECT_TRUE(compatible(R"("float")", R"("long")"));
  EXPECT_TRUE(compatible(R"("bytes")", R"("string")"));
  EXPECT_TRUE(compatible(R"("string")", R"("bytes")"));
  EXPECT_FALSE(compatible(R"("int")", R"("long")"));
  EXPECT_FALSE(compatible(R"("string")", R"("int")"));
  EXPECT_TRUE(compatible(R"({"type":"array","items":"long"})", R"({"type":"array","items":"int"})"));
  EXPECT_FALSE(compatible(R"({"type":"map","values":"int"})", R"({"type":"map","values":"string"})"));
  EXPECT_FALSE(
      compatible(R"({"type":"fixed","name":"F","size":4})", R"({"type":"fixed","name":"F","size":8})"));
}

TEST(AvroCompat, Unions) {
  EXPECT_TRUE(compatible(R"(["null","string"])", R"("string")"));
  EXPECT_FALSE(compatible(R"("string")", R"(["null","string"])"));
  EXPECT_TRUE(compatible(R"(["null","long","string"])", R"(["null","int"])"));
  EXPECT_FALSE(compatible(R"(["null","int"])", R"(["null","int","string"])"));
}

TEST(AvroCompat, EnumsNamesAndAliases) {
  const char* e2 = R"({"type":"enum","name":"S","symbols":["A","B"]})";
  const char* e3 = R"({"type":"enum","name":"S","symbols":["A","B","C"]})";
  const char* e3d = R"({"type":"enum","name":"S","symbols":["A","B","U"],"default":"U"})";
  EXPECT_TRUE(compatible(e3, e2));
  EXPECT_FALSE(compatible(e2, e3));  // MISSING_ENUM_SYMBOLS
  EXPECT_TRUE(compatible(e3d, e3));  // unknown symbols read as the default
  const char* renamed = R"({"type":"record","name":"care.Observation","aliases":["Obs"],"fields":[
    {"name":"ident","aliases":["id"],"type":"string"},{"name":"value","type":"long"}]})";
  EXPECT_TRUE(compatible(renamed, kV1));
  EXPECT_FALSE(compatible(R"({"type":"record","name":"care.Other","fields":[]})", kV1));
}

TEST(AvroCompat, RecursiveSchemasTerminate) {
  const char* list = R"({"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]})";
  EXPECT_TRUE(compatible(list, list));
}

TEST(AvroBinary, ValidatesData) {
  auto s = must(R"({"type":"record","name":"R","fields":[{"name":"id","type":"string"},
                 {"name":"n","type":["null","int"]},{"name":"tags","type":{"type":"array","items":"string"}},
                 {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]})");
  // id="ab", n=union branch 1 int 3, tags=[ "x" ], e=B
  const std::string good(
      "\x04"
      "ab"
      "\x02\x06"
      "\x02\x02x\x00"
      "\x02",
      10);
  EXPECT_TRUE(validate_binary(*s, good).ok()) << validate_binary(*s, good).error().message;
  EXPECT_FALSE(validate_binary(*s, good.substr(0, 5)).ok());
  EXPECT_FALSE(validate_binary(*s, good + "x").ok());
  std::string bad_enum = good;
  bad_enum.back() = '\x06';
  auto st = validate_binary(*s, bad_enum);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/e"), std::string::npos) << st.error().message;
  std::string bad_union = good;
  bad_union[3] = '\x08';
  EXPECT_FALSE(validate_binary(*s, bad_union).ok());
  EXPECT_FALSE(validate_binary(*s, std::string("\x04\xff\xfe", 3)).ok());  // not UTF-8
}

}  // namespace
}  // namespace carelog::schema::avro
