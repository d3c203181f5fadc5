// PgMetadataStore: Kafka ACL bindings and SCRAM credentials. The acls
// primary key is the whole binding, so adding is INSERT ... ON CONFLICT DO
// NOTHING and removing an exact-match DELETE, each one statement for the
// whole batch (all or nothing).
#include <nlohmann/json.hpp>

#include "metadata/pg_json.h"
#include "metadata/pg_metadata_store.h"

namespace carelog::metadata {
namespace {

using Json = nlohmann::json;

Result<std::string> acls_json(const std::vector<AclRecord>& acls) {
  Json arr = Json::array();
  for (const auto& a : acls) {
    arr.push_back({{"rt", a.resource_type},
                   {"rn", a.resource_name},
                   {"pt", a.pattern_type},
                   {"pr", a.principal},
                   {"h", a.host},
                   {"op", a.operation},
                   {"pm", a.permission_type}});
  }
  return pg::dump_json(arr);
}

constexpr const char* kAclRecordset =
    "jsonb_to_recordset($1::jsonb) AS x(rt smallint, rn text, pt smallint, pr text, h text, op smallint, pm "
    "smallint)";

constexpr const char* kScramColumns =
    "SELECT user_name, mechanism, salt, stored_key, server_key, iterations FROM scram_credentials ";

Result<ScramCredentialRecord> read_scram(const pg::Rows& rows, int i) {
  ScramCredentialRecord r;
  r.user = rows.text(i, 0);
  r.mechanism = static_cast<int8_t>(rows.integer(i, 1));
  auto salt = rows.bytes(i, 2), stored = rows.bytes(i, 3), server = rows.bytes(i, 4);
  if (!salt || !stored || !server) return pg::malformed("scram_credentials");
  r.salt = std::move(*salt);
  r.stored_key = std::move(*stored);
  r.server_key = std::move(*server);
  r.iterations = static_cast<int32_t>(rows.integer(i, 5));
  return r;
}

}  // namespace

Status PgMetadataStore::add_acls(const std::vector<AclRecord>& acls) {
  if (acls.empty()) return Status::OK();
  auto text = acls_json(acls);
  if (!text.ok()) return text.take_error();
  auto rows =
      exec(std::string("INSERT INTO acls (resource_type, resource_name, pattern_type, principal, host, "
                       "operation, permission_type) SELECT rt, rn, pt, pr, h, op, pm FROM ") +
               kAclRecordset + " ON CONFLICT DO NOTHING",
           {*text}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Status PgMetadataStore::remove_acls(const std::vector<AclRecord>& acls) {
  if (acls.empty()) return Status::OK();
  auto text = acls_json(acls);
  if (!text.ok()) return text.take_error();
  auto rows =
      exec(std::string("DELETE FROM acls a USING ") + kAclRecordset +
               " WHERE a.resource_type = x.rt AND a.resource_name = x.rn AND a.pattern_type = x.pt "
               "AND a.principal = x.pr AND a.host = x.h AND a.operation = x.op AND a.permission_type = "
               "x.pm",
           {*text}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

Result<std::vector<AclRecord>> PgMetadataStore::list_acls() {
  auto rows = exec(
      "SELECT resource_type, resource_name, pattern_type, principal, host, operation, permission_type "
      "FROM acls ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, "
      "permission_type",
      {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<AclRecord> out;
  out.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    AclRecord a;
    a.resource_type = static_cast<int8_t>(rows->integer(i, 0));
    a.resource_name = rows->text(i, 1);
    a.pattern_type = static_cast<int8_t>(rows->integer(i, 2));
    a.principal = rows->text(i, 3);
    a.host = rows->text(i, 4);
    a.operation = static_cast<int8_t>(rows->integer(i, 5));
    a.permission_type = static_cast<int8_t>(rows->integer(i, 6));
    out.push_back(std::move(a));
  }
  return out;
}

Result<std::optional<ScramCredentialRecord>> PgMetadataStore::scram_credential(const std::string& user,
                                                                               int8_t mechanism) {
  auto rows = exec(std::string(kScramColumns) + "WHERE user_name = $1 AND mechanism = $2",
                   {user, std::to_string(mechanism)}, true);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() == 0) return std::optional<ScramCredentialRecord>();
  auto r = read_scram(*rows, 0);
  if (!r.ok()) return r.take_error();
  return std::optional<ScramCredentialRecord>(std::move(*r));
}

Result<std::vector<ScramCredentialRecord>> PgMetadataStore::scram_credentials() {
  auto rows = exec(std::string(kScramColumns) + "ORDER BY user_name, mechanism", {}, true);
  if (!rows.ok()) return rows.take_error();
  std::vector<ScramCredentialRecord> out;
  for (int i = 0; i < rows->size(); ++i) {
    auto r = read_scram(*rows, i);
    if (!r.ok()) return r.take_error();
    out.push_back(std::move(*r));
  }
  return out;
}

Status PgMetadataStore::alter_scram_credentials(const std::vector<std::pair<std::string, int8_t>>& deletions,
                                                const std::vector<ScramCredentialRecord>& upserts) {
  Json del = Json::array();
  for (const auto& [user, mechanism] : deletions) del.push_back({{"u", user}, {"m", mechanism}});
  Json ups = Json::array();
  for (const auto& c : upserts) {
    ups.push_back({{"u", c.user},
                   {"m", c.mechanism},
                   {"salt", pg::hex(c.salt.data(), c.salt.size())},
                   {"sk", pg::hex(c.stored_key.data(), c.stored_key.size())},
                   {"vk", pg::hex(c.server_key.data(), c.server_key.size())},
                   {"i", c.iterations}});
  }
  auto d = pg::dump_json(del);
  if (!d.ok()) return d.take_error();
  auto u = pg::dump_json(ups);
  if (!u.ok()) return u.take_error();
  auto rows = exec("SELECT carelog_alter_scram($1, $2)", {*d, *u}, false);
  if (!rows.ok()) return rows.take_error();
  return Status::OK();
}

}  // namespace carelog::metadata
