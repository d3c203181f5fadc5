// The cost model against a worked example recomputed by hand (the
// adt-distribution row of docs/cost-model.md), plus its flags and input checks.
#include "cli/cost_model.h"

#include <gtest/gtest.h>

namespace carelog::cli::cost {
namespace {

const Line& line(const Estimate& e, const std::string& driver) {
  for (const auto& l : e.lines)
    if (l.driver == driver) return l;
  ADD_FAILURE() << "no line " << driver;
  return e.lines.front();
}

Workload adt() {
  for (const auto& w : example_workloads())
    if (w.name == "adt-distribution") return w;
  ADD_FAILURE() << "example missing";
  return {};
}

// docs/cost-model.md, "Worked example": every figure below is done by hand
// from the formulas there with the default prices and assumptions.
TEST(CostModel, AdtDistributionWorkedExample) {
  Workload w = adt();
  ASSERT_EQ(w.ingress_mb_s, 0.5);
  ASSERT_EQ(w.retention_days, 7);
  ASSERT_EQ(w.consumer_fanout, 12);
  Prices p;
  Assumptions a;
  ASSERT_TRUE(validate(w, p, a).ok());
  Estimate e = estimate(w, p, a);

  // G = 0.5 MB/s x 730 h x 3600 s / 1000 = 1314 GB; R = 0.5 x 7 x 86400 / 1000 = 302.4 GB.
  EXPECT_NEAR(e.ingress_gb_month, 1314.0, 1e-9);
  EXPECT_NEAR(e.retained_gb, 302.4, 1e-9);
  EXPECT_NEAR(e.messages_s, 250.0, 1e-9);
  // Loads far below one broker: the minimums (3 for Kafka, 2 for Carelog).
  EXPECT_EQ(e.kafka_brokers_average, 3);
  EXPECT_EQ(e.kafka_brokers_peak, 3);
  EXPECT_EQ(e.carelog_brokers_average, 2);
  EXPECT_EQ(e.carelog_brokers_elastic, 2);

  // Kafka: 302.4 x 3 / 0.7 x 0.08 = 103.68
  EXPECT_NEAR(line(e, "retention storage").kafka, 103.68, 1e-6);
  // Carelog: 302.4 x 0.023 + 2 brokers x 50 GB x 0.08 = 6.9552 + 8 = 14.9552
  EXPECT_NEAR(line(e, "retention storage").carelog, 14.9552, 1e-6);
  // 1314 x 2/3 x 0.02 = 17.52 on both sides (clients are not zone-local by default).
  EXPECT_NEAR(line(e, "cross-zone: producers").kafka, 17.52, 1e-6);
  EXPECT_NEAR(line(e, "cross-zone: producers").carelog, 17.52, 1e-6);
  // 1314 x min(RF-1, AZ-1) = 2 copies x 0.02 = 52.56; none for Carelog.
  EXPECT_NEAR(line(e, "cross-zone: replication").kafka, 52.56, 1e-6);
  EXPECT_EQ(line(e, "cross-zone: replication").carelog, 0);
  // 1314 x 12 x 2/3 x 0.02 = 210.24
  EXPECT_NEAR(line(e, "cross-zone: consumers").kafka, 210.24, 1e-6);
  EXPECT_NEAR(line(e, "cross-zone: consumers").carelog, 210.24, 1e-6);
  // Replay 100 GB: Kafka 100 x 2/3 x 0.02 = 1.3333; Carelog adds
  // 100e9 / 2^30 x 256 = 23841.86 GETs x 0.0004 / 1000 = 0.0095367.
  EXPECT_NEAR(line(e, "replay reads").kafka, 4.0 / 3.0, 1e-6);
  EXPECT_NEAR(e.s3_gets_month, 23841.857910, 1e-3);
  EXPECT_NEAR(line(e, "replay reads").carelog, 4.0 / 3.0 + 0.0095367432, 1e-6);
  // PUTs: max(1223.74 GiB x 130, 0.5/s x 2,628,000 s x 2 brokers) = 2,628,000 -> 13.14
  EXPECT_NEAR(e.s3_puts_month, 2628000.0, 1e-6);
  EXPECT_NEAR(line(e, "S3 requests").carelog, 13.14, 1e-6);
  EXPECT_EQ(line(e, "S3 requests").kafka, 0);
  // Compute: 0.192 x 730 = 140.16 per broker-month.
  EXPECT_NEAR(line(e, "compute").kafka, 420.48, 1e-6);
  EXPECT_NEAR(line(e, "compute").carelog, 280.32, 1e-6);
  EXPECT_EQ(line(e, "peak sizing").kafka, 0);
  EXPECT_EQ(line(e, "peak sizing").carelog, 0);

  EXPECT_NEAR(e.kafka_total, 103.68 + 17.52 + 52.56 + 210.24 + 4.0 / 3.0 + 420.48, 1e-6);
  EXPECT_NEAR(e.carelog_total, 14.9552 + 17.52 + 210.24 + 4.0 / 3.0 + 0.0095367432 + 13.14 + 280.32, 1e-6);
  EXPECT_TRUE(e.flags.empty());
}

TEST(CostModel, PeakSizingAndElasticBrokers) {
  Workload w = adt();
  w.name = "busy";
  w.ingress_mb_s = 40;  // Kafka load 40 x (1 + 4 + 12) = 680 MB/s + replay
  w.peak_to_average = 3;
  Prices p;
  Assumptions a;
  Estimate e = estimate(w, p, a);
  EXPECT_EQ(e.kafka_brokers_average, 7);
  EXPECT_EQ(e.kafka_brokers_peak, 21);  // 2040 MB/s / 100
  EXPECT_NEAR(line(e, "peak sizing").kafka, 14 * 140.16, 1e-6);
  // Carelog load 40 x (2 + 12) = 560 MB/s (+ replay): 6 brokers, x1.2 -> 7.
  EXPECT_EQ(e.carelog_brokers_average, 6);
  EXPECT_EQ(e.carelog_brokers_elastic, 7);
  EXPECT_NEAR(line(e, "peak sizing").carelog, 140.16, 1e-6);
}

TEST(CostModel, FlagsLowThroughputAndLatencyCriticalPaths) {
  Workload w;
  for (const auto& x : example_workloads())
    if (x.name == "sepsis-alerts") w = x;
  ASSERT_TRUE(w.latency_critical);
  Estimate e = estimate(w, Prices{}, Assumptions{});
  // 26.28 GB a month: the PUT floor (13.14) is above the storage (0.02 + 8 of WAL EBS).
  bool requests = false, latency = false;
  for (const auto& f : e.flags) {
    requests = requests || f.message.find("per-request costs dominate") != std::string::npos;
    latency = latency || f.message.find("latency-critical") != std::string::npos;
  }
  EXPECT_TRUE(requests);
  EXPECT_TRUE(latency);
}

TEST(CostModel, FlagsWhenObjectStorageIsNotCheaper) {
  // One AZ, no replication, one Kafka broker: nothing for object storage to save.
  Workload w;
  w.name = "single-az";
  w.ingress_mb_s = 0.2;
  w.availability_zones = 1;
  w.kafka_replication_factor = 1;
  w.consumer_fanout = 1;
  Assumptions a;
  a.kafka_min_brokers = 1;
  a.carelog_wal_type = "object";
  Estimate e = estimate(w, Prices{}, a);
  ASSERT_GE(e.carelog_total, e.kafka_total);
  ASSERT_FALSE(e.flags.empty());
  EXPECT_NE(e.flags[0].message.find("not the cheaper choice"), std::string::npos);
  // Object WAL: 5 WAL PUTs/s per broker on top of the 0.5/s upload floor.
  EXPECT_NEAR(e.s3_puts_month, (0.5 + 5) * 2628000 * 2, 1e-3);
}

TEST(CostModel, RejectsImpossibleInputs) {
  Prices p;
  Assumptions a;
  Workload w = adt();
  w.availability_zones = 0;
  auto st = validate(w, p, a);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("availability_zones"), std::string::npos);
  w = adt();
  w.ingress_mb_s = -1;
  EXPECT_FALSE(validate(w, p, a).ok());
  w = adt();
  a.kafka_disk_utilization = 1.5;
  EXPECT_FALSE(validate(w, p, a).ok());
  a = Assumptions{};
  a.carelog_wal_type = "tape";
  EXPECT_FALSE(validate(w, p, a).ok());
  p.ebs_gb_month = -0.1;
  EXPECT_FALSE(validate(w, p, Assumptions{}).ok());
  for (const auto& x : example_workloads()) EXPECT_TRUE(validate(x, Prices{}, Assumptions{}).ok()) << x.name;
}

}  // namespace
}  // namespace carelog::cli::cost
