// Which thread makes a metadata call: the cluster's background work
// (heartbeats, leadership passes) or the request paths. Metrics use it to
// tell the round trips a produce costs from the ones the cluster makes on
// its own (PgMetadataStore::background_round_trips).
#pragma once

namespace carelog::metadata {

// Marks the calling thread's store calls as the cluster's own background
// work (heartbeats, leadership passes) while the scope lives, so that
// metrics can tell them from the calls the produce and fetch paths make
// (PgMetadataStore::background_round_trips).
class BackgroundCallsScope {
 public:
  BackgroundCallsScope();
  ~BackgroundCallsScope();
  BackgroundCallsScope(const BackgroundCallsScope&) = delete;
  BackgroundCallsScope& operator=(const BackgroundCallsScope&) = delete;

 private:
  bool previous_;
};
bool in_background_calls();

}  // namespace carelog::metadata
