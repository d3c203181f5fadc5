// SqliteMetadataStore: transaction coordinator state (table transactions,
// schema v8). One opaque blob per transactional id; its format belongs to
// the txn module (docs/formats/txn-state.md). Each put is one statement,
// so one implicit transaction.
#include "metadata/sqlite_metadata_store.h"

namespace carelog::metadata {

Status SqliteMetadataStore::put_transaction(const std::string& transactional_id,
                                            const std::vector<uint8_t>& state) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("INSERT OR REPLACE INTO transactions (transactional_id, state) VALUES (?, ?)");
  if (!q.ok()) return q.take_error();
  static const uint8_t kNone = 0;  // sqlite binds a null pointer as NULL
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, transactional_id));
  CARELOG_RETURN_IF_ERROR((*q)->bind_blob(2, state.empty() ? &kNone : state.data(), state.size()));
  return (*q)->run();
}

Status SqliteMetadataStore::delete_transaction(const std::string& transactional_id) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("DELETE FROM transactions WHERE transactional_id = ?");
  if (!q.ok()) return q.take_error();
  CARELOG_RETURN_IF_ERROR((*q)->bind_text(1, transactional_id));
  return (*q)->run();
}

Result<std::map<std::string, std::vector<uint8_t>>> SqliteMetadataStore::transactions() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare("SELECT transactional_id, state FROM transactions ORDER BY transactional_id");
  if (!q.ok()) return q.take_error();
  std::map<std::string, std::vector<uint8_t>> out;
  for (;;) {
    auto row = (*q)->step();
    if (!row.ok()) return row.take_error();
    if (!*row) break;
    out[(*q)->column_text(0)] = (*q)->column_bytes(1);
  }
  (*q)->reset();
  return out;
}

}  // namespace carelog::metadata
