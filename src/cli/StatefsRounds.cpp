#include "StatefsRounds.h"

#include <signal.h>

#include <future>
#include <memory>

#include "sashimono/core/Log.h"
#include "sashimono/statefs/StateFs.h"

namespace sashimono::cli {

core::Status StatefsRounds::open(const std::string& undoDir, const std::string& views,
                                 statefs::PassthroughBackend& passthrough, bool controlled) {
  if (undoDir.empty()) return {};
  auto log = statefs::UndoLog::open(undoDir, passthrough.source());
  if (!log.ok()) return log.error();
  if (log->roundPresent() && !controlled) {  // nobody to decide: back to the committed state
    spdlog::warn("statefs: rolling back the round left open in {}", undoDir);
    SASHI_TRY(log->rollback(nullptr));
  }
  rounds = std::make_unique<statefs::RoundBackend>(passthrough, passthrough.source(), std::move(log).value());
  if (controlled) {
    // The daemon may have stopped after the round's ledger was stored and before its commit: the
    // owner (the runtime, at start) commits or rolls it back over the control socket.
    auto taken = rounds->resume();
    if (!taken.ok()) return taken.error();
    if (*taken)
      spdlog::warn(
          "statefs: the round left open in {} is kept for its owner to commit or roll back; "
          "changes are refused until then",
          undoDir);
  }
  if (!views.empty()) {
    this->views = std::make_unique<statefs::ViewBackend>(*rounds);
    viewsDir = views;
  }
  return {};
}

core::Status StatefsRounds::startViews() {
  if (!views) return {};
  auto ready = std::make_shared<std::promise<core::Status>>();
  auto answered = ready->get_future();
  viewsThread = std::thread([this, ready] {
    sigset_t all;  // the main mount's handlers take the signals
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    statefs::MountOptions o;
    o.mountpoint = viewsDir;
    o.allowOther = allowOther;
    o.owner = owner;
    o.readOnly = true;
    o.signals = false;
    o.attrTimeout = 0;  // views come and go (view close, commit): no cached names
    o.entryTimeout = 0;
    bool reported = false;
    auto st = statefs::serve(o, *views, [&](const core::Status& s) {
      reported = true;
      ready->set_value(s);
    });
    if (!reported)
      ready->set_value(st.ok() ? core::Status(core::Error("statefs: views unmounted before use")) : st);
  });
  auto st = answered.get();
  if (!st.ok()) stopViews();
  return st;
}

statefs::ControlProtocol mountControl(statefs::HashingBackend& state, StatefsRounds& rounds,
                                      statefs::TreeStore* store, const std::string& stateDir) {
  auto sync = std::make_shared<statefs::ControlSync>();
  sync->stateDir = stateDir;
  if (store != nullptr) {
    sync->synced = [store](statefs::StateTree& t) {
      if (auto saved = store->save(t); !saved.ok())
        spdlog::error("statefs: saving the tree after a sync: {}", saved.error().message);
    };
  }
  sync->changed = [&rounds](const std::string& path) { rounds.notifier.invalidate(path); };
  auto p = statefs::stateControl(state, rounds.rounds.get(), rounds.views.get(), std::move(sync));
  if (store == nullptr) return p;
  auto inner = std::make_shared<statefs::ControlProtocol>(p);
  p.add("commit", [inner, &state, store](std::string_view args) -> core::Result<std::string> {
    std::string line = inner->answer(args.empty() ? std::string("commit") : "commit " + std::string(args));
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (line.rfind("error ", 0) == 0) return core::Error(line.substr(6));
    auto saved = state.withTree([store](statefs::StateTree& t) { return store->save(t); });
    if (!saved.ok()) spdlog::error("statefs: saving the tree at commit: {}", saved.error().message);
    return line.size() > 3 ? line.substr(3) : std::string();
  });
  return p;
}

void StatefsRounds::stopViews() {
  if (!viewsThread.joinable()) return;
  if (auto r = statefs::unmount(viewsDir); !r.ok()) spdlog::warn("{}", r.error().message);
  viewsThread.join();
}

}  // namespace sashimono::cli
