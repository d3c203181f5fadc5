// `carelog debug`: offline inspection of storage files, for operators.
//   dump-wal <dir>                 every record of every WAL segment (topic id,
//                                  partition, offsets, position, size), and
//                                  where a segment's valid data ends
//   dump-object <file|key>         the index of a stream-set object, the batch
//                                  headers of each partition range, and a CRC
//                                  check of every range; a key is read from
//                                  --object-store (default file://./carelog-data/objects)
// Neither prints record payloads, keys or headers.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/commands.h"
#include "objstore/object_store.h"
#include "record/batch.h"
#include "storage/object_format.h"
#include "storage/wal_format.h"

namespace carelog::cli {

namespace {

Result<SharedBytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open " + path);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return SharedBytes::from_vector(std::move(data));
}

int run_dump_wal(CommandContext& ctx, const std::string& dir) {
  std::error_code ec;
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto id = storage::wal_format::parse_segment_name(entry.path().filename().string());
    if (id) segments.emplace_back(*id, entry.path().string());
  }
  if (ec) return ctx.fail(make_error("cannot list " + dir + ": " + ec.message()));
  std::sort(segments.begin(), segments.end());
  uint64_t total = 0;
  for (const auto& [id, path] : segments) {
    auto data = read_file(path);
    if (!data.ok()) return ctx.fail(data.error());
    ctx.out << "segment " << id << " (" << data->size() << " bytes)\n";
    uint64_t pos = 0, records = 0;
    while (pos < data->size()) {
      auto r = storage::wal_format::decode_record(*data, pos);
      if (!r.ok()) {
        ctx.out << "  end of valid data at " << pos << ": " << r.error().message << "\n";
        break;
      }
      std::string offsets = std::to_string(r->base_offset);
      auto h = record::parse_header(data->span().subspan(r->batch_position, r->batch_length));
      if (h.ok()) offsets += ".." + std::to_string(h->last_offset());
      ctx.out << "  @" << pos << " topic " << r->topic_id.to_string() << " partition " << r->partition
              << " offsets " << offsets << " batch " << r->batch_length << " bytes\n";
      pos = r->next_position;
      records++;
    }
    ctx.out << "  " << records << " records\n";
    total += records;
  }
  ctx.out << segments.size() << " segments, " << total << " records\n";
  return kExitOk;
}

int run_dump_object(CommandContext& ctx, const std::string& what, const std::string& store_uri) {
  Result<SharedBytes> whole = make_error("unread");
  if (std::filesystem::is_regular_file(what)) {
    whole = read_file(what);
  } else {
    auto store = objstore::open_object_store(store_uri);
    if (!store.ok()) return ctx.fail(store.error());
    whole = (*store)->get(what);
  }
  if (!whole.ok()) return ctx.fail(whole.error());
  auto reader = storage::object_format::ObjectReader::open(*whole);
  if (!reader.ok()) return ctx.fail(reader.error());
  const auto& f = reader->footer();
  ctx.out << "object " << what << ": " << f.object_length << " bytes, format v" << f.version << ", "
          << f.entry_count << " ranges, index at " << f.index_position << "\n";
  bool all_ok = true;
  for (const auto& e : reader->entries()) {
    Status crc =
        storage::object_format::ObjectReader::verify_range(e, whole->span().subspan(e.position, e.length));
    all_ok = all_ok && crc.ok();
    ctx.out << "range topic " << e.topic_id.to_string() << " partition " << e.partition << " offsets "
            << e.base_offset << ".." << e.last_offset << " max_ts " << e.max_timestamp << " @" << e.position
            << " +" << e.length << " batches " << e.batch_count << (crc.ok() ? " crc ok" : " CRC MISMATCH")
            << "\n";
    uint64_t pos = e.position;
    while (pos + record::kBatchHeaderSize <= e.position + e.length) {
      auto h = record::parse_header(whole->span().subspan(pos));
      if (!h.ok() || h->batch_length <= 0) {
        ctx.out << "  bad batch header at " << pos << "\n";
        all_ok = false;
        break;
      }
      ctx.out << "  batch " << h->base_offset << ".." << h->last_offset() << " @" << pos << " +"
              << h->total_size() << " records " << (h->last_offset_delta + 1) << " producer "
              << h->producer_id << "\n";
      pos += h->total_size();
    }
  }
  return all_ok ? kExitOk : ctx.fail(make_error("object has corrupt ranges"));
}

}  // namespace

void add_debug_commands(CLI::App& parent, CommandContext& ctx, Action* action) {
  CLI::App* debug = parent.add_subcommand("debug", "Inspect storage files offline (no broker needed)");
  debug->require_subcommand(1);

  auto dir = std::make_shared<std::string>();
  CLI::App* wal = debug->add_subcommand("dump-wal", "List the records of every WAL segment in a directory");
  wal->add_option("dir", *dir, "WAL directory (wal.dir)")->required();
  wal->callback([&ctx, action, dir] { *action = [&ctx, dir] { return run_dump_wal(ctx, *dir); }; });

  auto target = std::make_shared<std::string>();
  auto store = std::make_shared<std::string>("file://./carelog-data/objects");
  CLI::App* obj = debug->add_subcommand("dump-object", "Show a stream-set object's index and batches");
  obj->add_option("object", *target, "Object file path, or object key in --object-store")->required();
  obj->add_option("--object-store", *store, "Object store URI for keys");
  obj->callback([&ctx, action, target, store] {
    *action = [&ctx, target, store] { return run_dump_object(ctx, *target, *store); };
  });
}

}  // namespace carelog::cli
