// The Prometheus text parser on what the operator endpoint serves and on
// malformed lines.
#include "cli/prometheus_text.h"

#include <gtest/gtest.h>

namespace carelog::cli {
namespace {

TEST(PrometheusText, SamplesWithAndWithoutLabels) {
  auto r = parse_prometheus_text(
      "# HELP carelog_upload_bytes_total Bytes.\n"
      "# TYPE carelog_upload_bytes_total counter\n"
      "carelog_upload_bytes_total 123456\n"
      "carelog_s3_requests_total{op=\"put\",status=\"2xx\"} 10\r\n"
      "carelog_s3_requests_total{op=\"put\",status=\"5xx\"} 2\n"
      "carelog_s3_requests_total{op=\"get\",status=\"2xx\"} 7 1700000000000\n"
      "\n"
      "h_bucket{le=\"+Inf\"} 3\n"
      "odd{v=\"a}b\\\"c\"} 1.5e3\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sum("carelog_upload_bytes_total", ""), 123456);
  EXPECT_EQ(r->sum("carelog_s3_requests_total", "op=\"put\""), 12);
  EXPECT_EQ(r->sum("carelog_s3_requests_total", ""), 19);
  EXPECT_EQ(r->sum("odd", ""), 1500);
  EXPECT_TRUE(r->has("h_bucket"));
  EXPECT_FALSE(r->has("missing"));
  EXPECT_EQ(r->sum("missing", ""), 0);
}

TEST(PrometheusText, MalformedLinesNameTheLine) {
  for (const char* bad : {"ok 1\n{x} 1\n", "ok 1\nname{op=\"x\" 1\n", "ok 1\nname\n", "ok 1\nname abc\n",
                          "ok 1\nname{a=\"b\"}1\n"}) {
    auto r = parse_prometheus_text(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace carelog::cli
