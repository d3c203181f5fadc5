// PgMetadataStore: transaction coordinator state (table transactions,
// schema v3). One opaque bytea per transactional id, as in the SQLite
// engine; each call is one statement (one round trip, one transaction).
#include "metadata/pg_conn.h"
#include "metadata/pg_metadata_store.h"

namespace carelog::metadata {

Status PgMetadataStore::put_transaction(const std::string& transactional_id,
                                        const std::vector<uint8_t>& state) {
  auto rows = exec(
      "INSERT INTO transactions (transactional_id, state) VALUES ($1, decode($2, 'hex')) "
      "ON CONFLICT (transactional_id) DO UPDATE SET state = EXCLUDED.state",
      {transactional_id, pg::hex(state.data(), state.size())}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::delete_transaction(const std::string& transactional_id) {
  auto rows = exec("DELETE FROM transactions WHERE transactional_id = $1", {transactional_id}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::map<std::string, std::vector<uint8_t>>> PgMetadataStore::transactions() {
  auto rows = exec("SELECT transactional_id, state FROM transactions ORDER BY transactional_id", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::map<std::string, std::vector<uint8_t>> out;
  for (int i = 0; i < rows->size(); ++i) {
    auto state = rows->bytes(i, 1);
    if (!state) return Error{pg::kStorageError, "metadata store: transactions row is malformed"};
    out[rows->text(i, 0)] = std::move(*state);
  }
  return out;
}

}  // namespace carelog::metadata
