#pragma once
// `statefs mount --undo DIR [--views DIR]`: the rounds and views of a mount (StatefsCommand.cpp).
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/OwnerMap.h"
#include "sashimono/statefs/PassthroughBackend.h"
#include "sashimono/statefs/RoundBackend.h"
#include "sashimono/statefs/StateFs.h"
#include "sashimono/statefs/TreeStore.h"
#include "sashimono/statefs/ViewBackend.h"

namespace sashimono::cli {

struct StatefsRounds {
  std::unique_ptr<statefs::RoundBackend> rounds;  // with --undo
  std::unique_ptr<statefs::ViewBackend> views;    // with --views
  std::string viewsDir;
  std::string stateDir;             // the source directory (`sync` works on it)
  statefs::MountNotifier notifier;  // the main mount's: what a sync changed (MountOptions::notifier)
  bool allowOther = false;
  std::optional<statefs::OwnerMap> owner;  // presented in the views as in the mount (--owner)
  std::thread viewsThread;                 // serves the views mount

  StatefsRounds() = default;
  StatefsRounds(const StatefsRounds&) = delete;
  StatefsRounds& operator=(const StatefsRounds&) = delete;
  ~StatefsRounds() { stopViews(); }

  // Opens the undo log in `undoDir` and, with `viewsDir`, prepares the views. A round a stopped
  // daemon left open is taken up again when the mount is `controlled` (a control socket: its
  // owner decides, RoundBackend::resume), else rolled back. Before the tree is built: a
  // rollback changes the state.
  [[nodiscard]] core::Status open(const std::string& undoDir, const std::string& viewsDir,
                                  statefs::PassthroughBackend& passthrough, bool controlled);
  // Mounts the views (if any) on a thread of their own; returns once they are usable.
  [[nodiscard]] core::Status startViews();
  // Unmounts the views and waits for their thread.
  void stopViews();
};

// The control verbs of a mount (statefs::stateControl), `sync` working on the state directory
// `stateDir` (staging beside it). With a tree store (--tree), a `commit` that succeeded and each
// `sync to` also save the tree (TreeStore::save, not marked clean), so the store follows the
// committed state round by round; a failed save is logged (the commit stands: the store is only
// a cache, verified at the next load after an unclean stop).
statefs::ControlProtocol mountControl(statefs::HashingBackend& state, StatefsRounds& rounds,
                                      statefs::TreeStore* store, const std::string& stateDir);

}  // namespace sashimono::cli
