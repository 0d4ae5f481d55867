#pragma once
// What the verbs of stateControl share (ControlProtocol.cpp, ControlSync.cpp). Internal.
#include <atomic>
#include <memory>
#include <optional>
#include <string_view>

#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/RoundBackend.h"
#include "sashimono/statefs/ViewBackend.h"

namespace sashimono::statefs {

struct ControlState {
  ControlState(HashingBackend& s, RoundBackend* r, ViewBackend* v, std::shared_ptr<const ControlSync> y)
      : state(s), rounds(r), views(v), sync(std::move(y)) {}
  HashingBackend& state;
  RoundBackend* rounds;
  ViewBackend* views;
  std::shared_ptr<const ControlSync> sync;
  // The last committed root, for rollback's check and the views (the state at mount is
  // committed). Written by the serving thread, and by a `sync to` dialog while `syncing` keeps
  // every verb that reads it away.
  std::optional<crypto::Hash256> committed;
  // A `sync to` runs: set by its start (on the serving thread, in order with the other verbs),
  // cleared when its dialog ends. The verbs that touch the state or its tree are refused meanwhile.
  std::atomic<bool> syncing{false};
};

// An error "VERB: a sync is in progress" while one runs.
[[nodiscard]] core::Status notSyncing(const ControlState& s, std::string_view verb);

// Adds `sync answer` and `sync to` (when s->sync is set).
void addSyncVerbs(ControlProtocol& p, const std::shared_ptr<ControlState>& s);

}  // namespace sashimono::statefs
