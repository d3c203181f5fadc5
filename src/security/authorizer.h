// Authorizer: Kafka's StandardAuthorizer rules over the ACLs in the metadata
// store.
//
// Decision for (principal, host, operation, resource):
//   1. a super user (super.users) is allowed everything;
//   2. the bindings that apply to the resource are the LITERAL ones with its
//      name or "*" and the PREFIXED ones whose name is a prefix of it;
//   3. if one of them DENYs the principal (or User:*) from the host (or "*")
//      for the operation (or ALL), the answer is no: DENY beats ALLOW;
//   4. else if one ALLOWs it (READ/WRITE/DELETE/ALTER imply DESCRIBE,
//      ALTER_CONFIGS implies DESCRIBE_CONFIGS), yes;
//   5. else, when no binding at all applies to the resource, the answer is
//      allow.everyone.if.no.acl.found (default false); otherwise no.
//
// Ownership and threading: the authorizer owns an immutable AclSnapshot
// behind an atomic shared_ptr. Checks (authorize, authorize_any) take no
// lock and never touch the store; they may run on any thread. Changes
// (create_acls, delete_acls) serialise on `write_mu_`, write the store
// first and then publish a new snapshot, so a check sees either the old or
// the new ACL set, never a half-applied one. The store must outlive the
// authorizer.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "metadata/metadata_store.h"
#include "security/acl_snapshot.h"
#include "security/acl_types.h"
#include "security/principal.h"

namespace carelog::security {

struct AuthorizerOptions {
  std::vector<std::string> super_users;  // "User:admin" (from super.users, ';'-separated)
  bool allow_everyone_if_no_acl_found = false;
};

// Parses Kafka's super.users value ("User:a;User:b"); blanks are skipped.
// Fails (code 40) naming a malformed entry.
Result<std::vector<std::string>> parse_super_users(std::string_view value);

class Authorizer;

// Kafka's authorizer.class.name values that select this authorizer.
inline constexpr std::string_view kStandardAuthorizerClass =
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
inline constexpr std::string_view kCarelogAuthorizerName = "carelog";

// The broker's authorizer: null when `class_name` is empty (no
// authorization, every request allowed); ours, with its ACLs loaded, for
// "carelog" or Kafka's StandardAuthorizer class name; error code 40 for any
// other class name or a malformed super.users.
Result<std::unique_ptr<Authorizer>> open_authorizer(std::string_view class_name, std::string_view super_users,
                                                    bool allow_everyone_if_no_acl_found,
                                                    metadata::MetadataStore& store);

class Authorizer {
 public:
  Authorizer(metadata::MetadataStore& store, AuthorizerOptions options);

  // Reads every binding from the store and publishes it. Call once before
  // serving; bindings the store holds that fail validation are skipped
  // with a warning (they could never have been created through the API).
  Status load();

  bool is_super_user(const Principal& principal) const;
  bool authorize(const Principal& principal, std::string_view host, AclOperation op, ResourceType type,
                 std::string_view name) const;
  // Kafka's authorizeByResourceType: may the principal perform `op` on at
  // least one resource of `type` (some ALLOW not cancelled by a DENY)?
  // InitProducerId uses it (WRITE on any topic).
  bool authorize_any(const Principal& principal, std::string_view host, AclOperation op,
                     ResourceType type) const;

  // CreateAcls: one Status per binding (42 for an invalid one, the store's
  // error for a failed write). Valid bindings are written in one transaction.
  std::vector<Status> create_acls(const std::vector<AclBinding>& bindings);
  // DescribeAcls: the bindings matching `filter` (validate it first).
  std::vector<AclBinding> describe_acls(const AclBindingFilter& filter) const;
  // DeleteAcls: per filter, the bindings it removed. All removals are one
  // store transaction; on failure nothing is removed.
  Result<std::vector<std::vector<AclBinding>>> delete_acls(const std::vector<AclBindingFilter>& filters);

  std::shared_ptr<const AclSnapshot> snapshot() const { return snapshot_.load(std::memory_order_acquire); }

 private:
  void publish(std::vector<AclBinding> bindings);

  metadata::MetadataStore& store_;
  const AuthorizerOptions options_;
  std::atomic<std::shared_ptr<const AclSnapshot>> snapshot_;
  std::mutex write_mu_;  // serialises create/delete (store write + publish)
};

}  // namespace carelog::security
