#include "objstore/s3_xml.h"

#include <gtest/gtest.h>

namespace carelog::objstore::s3::xml {
namespace {

constexpr std::string_view kList = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>p/a%20b</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>p/c&amp;d</Key><ETag/><Size>0</Size></Contents>
</ListBucketResult>)";

TEST(S3Xml, FindsElementsByExactName) {
  auto contents = elements(kList, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(first_text(contents[0], "Key"), "p/a%20b");  // not <KeyCount>
  EXPECT_EQ(first_text(contents[0], "Size"), "434234");
  EXPECT_EQ(first_text(contents[0], "ETag"), "\"fba9dede5f27731c9771645a39863328\"");
  EXPECT_EQ(first_text(contents[1], "Key"), "p/c&d");
  EXPECT_EQ(first_text(contents[1], "ETag"), "");  // self-closing
  EXPECT_EQ(first_text(kList, "KeyCount"), "2");
  EXPECT_EQ(first_text(kList, "IsTruncated"), "true");
  EXPECT_EQ(first_text(kList, "NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_FALSE(first(kList, "Missing"));
  EXPECT_FALSE(first(kList, "Content"));          // a prefix of a real name
  EXPECT_TRUE(first(kList, "ListBucketResult"));  // start tag with attributes
}

TEST(S3Xml, ErrorDocument) {
  std::string_view doc =
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message></Message>)"
      R"(<BucketName>nobucket</BucketName></Error>)";
  EXPECT_EQ(first_text(doc, "Code"), "NoSuchBucket");
  EXPECT_EQ(first_text(doc, "Message"), "");
}

TEST(S3Xml, TextDecoding) {
  EXPECT_EQ(text("a&lt;b&gt;c&amp;d&quot;e&apos;f"), "a<b>c&d\"e'f");
  EXPECT_EQ(text("&#65;&#x42;&#xe9;"), "AB\xC3\xA9");
  EXPECT_EQ(text("&#x1F600;"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(text("<![CDATA[<raw>&]]>x"), "<raw>&x");
  EXPECT_FALSE(text("&bogus;"));
  EXPECT_FALSE(text("&amp"));
  EXPECT_FALSE(text("&#;"));
  EXPECT_FALSE(text("&#x110000;"));
  EXPECT_FALSE(text("&#12a;"));
  EXPECT_FALSE(text("<b>nested</b>"));
  EXPECT_FALSE(text("<![CDATA[unterminated"));
}

TEST(S3Xml, TruncatedAndHostileInputs) {
  EXPECT_TRUE(elements("<Key>unterminated", "Key").empty());
  EXPECT_TRUE(elements("<Key", "Key").empty());
  EXPECT_TRUE(elements("<", "Key").empty());
  EXPECT_TRUE(elements("", "Key").empty());
  EXPECT_TRUE(elements("<Key>x</Key>", "").empty());
  auto two = elements("<Key>1</Key><Key attr='x'>2</Key><Key>3", "Key");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1], "2");
  // Every prefix of a real document parses without crashing.
  for (size_t n = 0; n <= kList.size(); ++n) {
    auto c = elements(kList.substr(0, n), "Contents");
    for (auto e : c) (void)first_text(e, "Key");
  }
}

TEST(S3Xml, Escape) {
  EXPECT_EQ(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(text(escape("k/\xC3\xA9 & <x>")), "k/\xC3\xA9 & <x>");
}

}  // namespace
}  // namespace carelog::objstore::s3::xml
