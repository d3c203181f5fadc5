// `carelog audit verify`: re-reads the audit topic from object storage and
// checks its hash chain (docs/audit.md).
//
// It reads what the broker has uploaded: the object index in the metadata
// store (which objects hold which offsets of each audit partition) and the
// objects themselves, the same sources `carelog debug dump-object` reads.
// Every range is CRC-checked, every batch's CRC is checked, then every
// record's `prev` must be the SHA-256 of the previous record's value and its
// `seq` the next number. The first broken link (partition, offset) is
// reported and the exit code is 1; otherwise it prints per-partition counts
// and the head hash. Needs no broker; safe while one runs (read-only).
// Record values are never printed.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <map>

#include "audit/hash_chain.h"
#include "cli/commands.h"
#include "metadata/metadata_store.h"
#include "objstore/object_store.h"
#include "record/batch.h"
#include "record/records.h"
#include "storage/object_format.h"

namespace carelog::cli {
namespace {

struct VerifyOptions {
  std::string data_dir = "./carelog-data";
  std::string metadata_store;  // default sqlite://<data_dir>/metadata.db
  std::string object_store;    // default file://<data_dir>/objects
  std::string topic = "__carelog_audit";
};

struct PartitionReport {
  audit::ChainVerifier chain;
  uint64_t objects = 0;
};

using storage::object_format::ObjectReader;

// Checks the records of one object range; an error names the broken spot.
Status verify_range(objstore::ObjectStore& store, std::map<std::string, ObjectReader>& readers,
                    const metadata::ObjectRange& range, int64_t* next_offset, PartitionReport& report) {
  auto it = readers.find(range.object_key);
  if (it == readers.end()) {
    auto reader = ObjectReader::open(store, range.object_key);
    if (!reader.ok())
      return make_error(fmt::format("object {}: {}", range.object_key, reader.error().message));
    it = readers.emplace(range.object_key, std::move(*reader)).first;
  }
  const auto* entry = it->second.find(range.topic_id, range.partition);
  if (!entry) return make_error(fmt::format("object {} has no range for the partition", range.object_key));
  auto data = ObjectReader::read_range(store, range.object_key, *entry);
  if (!data.ok()) return make_error(fmt::format("object {}: {}", range.object_key, data.error().message));
  ++report.objects;
  size_t pos = 0;
  while (pos < data->size()) {
    auto h = record::parse_header(data->span().subspan(pos));
    if (!h.ok() || h->batch_length <= 0 || pos + h->total_size() > data->size()) {
      return make_error(fmt::format("object {}: bad batch header at byte {}", range.object_key, pos));
    }
    SharedBytes batch = data->slice(pos, h->total_size());
    if (record::compute_crc(batch.data(), batch.size()) != h->crc) {
      return make_error(
          fmt::format("offset {}: batch CRC mismatch (object {})", h->base_offset, range.object_key));
    }
    auto decoded = record::decode_batch(batch);
    if (!decoded.ok())
      return make_error(fmt::format("offset {}: {}", h->base_offset, decoded.error().message));
    for (const auto& r : decoded->records) {
      int64_t offset = decoded->offset_of(r);
      if (offset < *next_offset) continue;  // already verified (overlapping batch)
      if (!r.value) return make_error(fmt::format("offset {}: record has no value", offset));
      CARELOG_RETURN_IF_ERROR(report.chain.add(offset, *r.value));
      *next_offset = offset + 1;
    }
    pos += h->total_size();
  }
  return Status::OK();
}

int run_verify(CommandContext& ctx, const VerifyOptions& opts) {
  std::string md_uri =
      opts.metadata_store.empty() ? "sqlite://" + opts.data_dir + "/metadata.db" : opts.metadata_store;
  std::string obj_uri =
      opts.object_store.empty() ? "file://" + opts.data_dir + "/objects" : opts.object_store;
  auto md = metadata::open_metadata_store(md_uri);
  if (!md.ok()) return ctx.fail(md.error());
  auto topic = (*md)->topic_by_name(opts.topic);
  if (!topic.ok()) return ctx.fail(topic.error());
  if (!topic->has_value())
    return ctx.fail(make_error("topic " + opts.topic + " does not exist in " + md_uri));
  auto store = objstore::open_object_store(obj_uri);
  if (!store.ok()) return ctx.fail(store.error());

  const metadata::TopicRecord& t = **topic;
  uint64_t total = 0;
  std::map<std::string, ObjectReader> readers;
  for (int32_t p = 0; p < t.partitions; ++p) {
    PartitionReport report;
    int64_t next = 0;
    for (;;) {
      auto ranges = (*md)->find_ranges(metadata::PartitionKey{t.id, p}, next, 256);
      if (!ranges.ok()) return ctx.fail(ranges.error());
      if (ranges->empty()) break;
      for (const auto& range : *ranges) {
        Status st = verify_range(**store, readers, range, &next, report);
        if (!st.ok()) {
          ctx.out << fmt::format("partition {}: BROKEN after {} verified record(s): {}\n", p,
                                 report.chain.records(), st.error().message);
          return ctx.fail(make_error(fmt::format("audit chain of {} partition {} is broken", t.name, p)));
        }
        next = std::max(next, range.last_offset + 1);
      }
    }
    const auto& c = report.chain;
    total += c.records();
    if (c.records() == 0) {
      ctx.out << fmt::format("partition {}: no uploaded audit records\n", p);
      continue;
    }
    ctx.out << fmt::format(
        "partition {}: {} records, offsets {}..{}, {} object range(s), {}, head {}\n", p, c.records(),
        c.first_offset(), c.last_offset(), report.objects,
        c.anchored() ? "starts after retention (first prev taken as anchor)" : "from genesis", c.head());
  }
  ctx.out << fmt::format("audit chain OK: {} records in {} partition(s) of {}\n", total, t.partitions,
                         t.name);
  return kExitOk;
}

}  // namespace

void add_audit_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* audit = parent.add_subcommand("audit", "Audit stream tools (no broker needed)");
  audit->require_subcommand(1);
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* verify =
      audit->add_subcommand("verify", "Re-read the audit topic from object storage and check its hash chain");
  verify->add_option("--data-dir", opts->data_dir, "Broker data.dir (default ./carelog-data)");
  verify->add_option("--metadata-store", opts->metadata_store,
                     "Metadata store URI (default sqlite://<data-dir>/metadata.db)");
  verify->add_option("--object-store", opts->object_store,
                     "Object store URI (default file://<data-dir>/objects)");
  verify->add_option("--topic", opts->topic, "Audit topic (audit.topic.name)");
  verify->callback([&ctx, action, opts] { *action = [&ctx, opts] { return run_verify(ctx, *opts); }; });
}

}  // namespace carelog::cli
