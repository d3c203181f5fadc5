#include "config/properties.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace carelog::config {
namespace {

Properties parse_ok(std::string_view text) {
  auto p = parse_properties(text, "test.properties");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : Properties{};
}

std::string get(const Properties& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? "<absent>" : it->second.value;
}

TEST(Properties, SeparatorsAndWhitespace) {
  auto p = parse_ok(
      "a=1\n"
      "b: 2\n"
      "c 3\n"
      "  d   =   4\n"
      "e\t:\tfive six  \n"
      "f\n"
      "g=\n"
      "h = = x\n"
      "i::j\n");
  EXPECT_EQ(get(p, "a"), "1");
  EXPECT_EQ(get(p, "b"), "2");
  EXPECT_EQ(get(p, "c"), "3");
  EXPECT_EQ(get(p, "d"), "4");
  EXPECT_EQ(get(p, "e"), "five six  ");  // trailing whitespace kept, as in Java
  EXPECT_EQ(get(p, "f"), "");
  EXPECT_EQ(get(p, "g"), "");
  EXPECT_EQ(get(p, "h"), "= x");  // only one separator is consumed
  EXPECT_EQ(get(p, "i"), ":j");
  EXPECT_EQ(p.at("d").line, 4);
}

TEST(Properties, CommentsAndBlankLines) {
  auto p = parse_ok(
      "# comment = 1\n"
      "   ! another\n"
      "\n"
      "   \t \n"
      "key=value # not a comment\n"
      "#continued comment \\\n"
      "after=1\n");
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(get(p, "key"), "value # not a comment");
  EXPECT_EQ(get(p, "after"), "1");  // a comment line never continues
  EXPECT_EQ(p.at("after").line, 7);
}

TEST(Properties, LineContinuation) {
  auto p = parse_ok(
      "listeners=PLAINTEXT://a:1,\\\n"
      "          PLAINTEXT2://b:2\n"
      "even=ends with two\\\\\n"
      "next=x\n"
      "multi = one \\\r\n"
      "  two \\\r"
      "  # three\n");
  EXPECT_EQ(get(p, "listeners"), "PLAINTEXT://a:1,PLAINTEXT2://b:2");
  EXPECT_EQ(get(p, "even"), "ends with two\\");
  EXPECT_EQ(get(p, "next"), "x");
  EXPECT_EQ(get(p, "multi"), "one two # three");
  EXPECT_EQ(p.at("multi").line, 5);
}

TEST(Properties, ContinuationAtEndOfFile) {
  auto p = parse_ok("k=v\\");
  EXPECT_EQ(get(p, "k"), "v");
}

TEST(Properties, Escapes) {
  auto p = parse_ok(
      "tab=a\\tb\n"
      "nl=a\\nb\n"
      "bs=a\\\\b\n"
      "uni=\\u00e9\\u20AC\n"
      "pair=\\uD83D\\uDE00\n"
      "key\\=with\\:seps\\ sp=v\n"
      "other=\\q\\#\n");
  EXPECT_EQ(get(p, "tab"), "a\tb");
  EXPECT_EQ(get(p, "nl"), "a\nb");
  EXPECT_EQ(get(p, "bs"), "a\\b");
  EXPECT_EQ(get(p, "uni"), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(get(p, "pair"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(get(p, "key=with:seps sp"), "v");
  EXPECT_EQ(get(p, "other"), "q#");
}

TEST(Properties, MalformedUnicodeNamesFileAndLine) {
  auto p = parse_properties("a=1\n\nb=\\u12G4\n", "server.properties");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("server.properties:3"), std::string::npos) << p.error().message;
  auto lone = parse_properties("x=\\uD800 y\n", "f");
  ASSERT_FALSE(lone.ok());
  EXPECT_NE(lone.error().message.find("f:1"), std::string::npos);
  EXPECT_FALSE(parse_properties("x=\\u12", "f").ok());
}

TEST(Properties, LastDuplicateWinsAndCrlf) {
  auto p = parse_ok("a=1\r\na=2\r\nb=3\r\n");
  EXPECT_EQ(get(p, "a"), "2");
  EXPECT_EQ(p.at("a").line, 2);
  EXPECT_EQ(get(p, "b"), "3");
}

TEST(Properties, FileErrors) {
  auto missing = load_properties_file("/nonexistent/dir/server.properties");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/dir/server.properties"), std::string::npos);
  EXPECT_FALSE(load_properties_file("/tmp").ok());

  char path[] = "/tmp/carelog-props-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "node.id=7\n";
  auto ok = load_properties_file(path);
  unlink(path);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("node.id").value, "7");
}

}  // namespace
}  // namespace carelog::config
