// Producer side of carelog-loadgen: N producer instances, one thread each.
//
// Open loop (rate > 0): message k of a producer is *scheduled* at a fixed
// time derived from the rate (and the burst pattern); the thread sleeps until
// the next due time and sends everything due. Latency runs from the scheduled
// time to the delivery report, so a stalled broker or client shows up as
// latency instead of silently lowering the offered load (no coordinated
// omission). Closed loop (rate == 0): send as fast as the bounded number of
// unacknowledged messages allows; latency runs from the produce call.
//
// Payload: the first 8 bytes carry the send time (CLOCK_MONOTONIC ns) for
// end-to-end latency, the next 8 a sequence number, the rest is FHIR-like
// JSON text (compresses roughly like real clinical payloads).
//
// Threading: run_producers() starts and joins the threads; each thread owns
// its librdkafka handle and its ProducerStats, merged after the join.
//
// Transactional (--txn-ms): each producer has its own transactional.id and
// commits whatever it sent every txn_ms; the commit waits for every delivery
// of the transaction, so its latency is what an exactly-once app pays.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "loadgen/histogram.h"
#include "loadgen/options.h"

namespace carelog::bench {

struct ProducerStats {
  LatencyHistogram latency;         // every acknowledged message
  LatencyHistogram burst_latency;   // messages scheduled inside a burst window
  LatencyHistogram commit_latency;  // --txn-ms: each commit_transaction call (EndTxn and the flush before it)
  int64_t transactions = 0;         // committed transactions
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t errors = 0;
  int64_t bytes = 0;        // acknowledged key + value bytes
  int64_t start_ns = 0;     // first scheduled send
  int64_t last_ack_ns = 0;  // last delivery report
  std::string first_error;

  void merge(const ProducerStats& o);
};

// Fills `buf` (size >= 16) with the payload pattern, leaving the 16-byte
// header for the caller.
void fill_payload(std::string& buf, uint64_t seed);

// The header carrying (send time ns, sequence) of --payload-file values.
inline constexpr const char* kStampHeader = "lg.ts";

Result<ProducerStats> run_producers(const Options& o);

}  // namespace carelog::bench
