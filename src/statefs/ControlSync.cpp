// The `sync` verbs of the control protocol (docs/STATEFS.md, "Control channel" and "Sync"):
//   sync answer <base64 request> → ok <base64 response>   a peer's request, from the committed state
//   sync to <64 hex>             → need/have dialog, then ok <64 hex> <counts>
#include <algorithm>
#include <climits>
#include <cstring>
#include <set>

#include "ControlState.h"
#include "sashimono/core/Base64.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/SyncSource.h"

namespace sashimono::statefs {

namespace {

// The committed bytes of a round's state, read through its views (RoundBackend::view*): the
// current files with the round's saved blocks laid over them, under their committed names.
class RoundSyncSource final : public TreeSyncSource {
 public:
  RoundSyncSource(const StateTree& tree, RoundBackend& rounds)
      : TreeSyncSource(tree), rounds_(rounds), epoch_(rounds.epoch()) {}

 protected:
  core::Result<core::Bytes> readBytes(std::string_view path, std::uint64_t offset,
                                      std::size_t length) override {
    RoundBackend::ViewFile f;
    if (int rc = rounds_.viewOpen(epoch_, path, f); rc != 0) return failed("opening", path, -rc);
    core::Bytes out(length);
    std::size_t done = 0;
    while (done < length) {
      const int n = rounds_.viewRead(f, reinterpret_cast<char*>(out.data()) + done, length - done,
                                     static_cast<off_t>(offset + done));
      if (n < 0) return failed("reading", path, -n);
      if (n == 0) return core::Error(std::string(path) + ": shorter than its committed size");
      done += static_cast<std::size_t>(n);
    }
    return out;
  }
  core::Result<std::string> readTarget(std::string_view path) override {
    std::string target(PATH_MAX + 1, '\0');
    if (int rc = rounds_.viewReadlink(epoch_, path, target.data(), target.size()); rc != 0)
      return failed("reading the link", path, -rc);
    target.resize(std::strlen(target.c_str()));
    return target;
  }

 private:
  static core::Error failed(const char* what, std::string_view path, int err) {
    return core::Error(std::string(what) + " " + std::string(path) + " (committed): " + std::strerror(err),
                       err);
  }
  RoundBackend& rounds_;
  std::uint64_t epoch_;
};

core::Result<std::string> answerRequest(ControlState& s, std::string_view args) {
  SASHI_TRY(notSyncing(s, "sync answer"));
  auto bytes = core::decodeBase64(args);
  if (!bytes.ok()) return bytes.error().context("sync answer");
  auto request = decodeSyncRequest(*bytes);
  if (!request.ok()) return request.error().context("sync answer");
  RoundBackend* rounds = s.rounds;
  const bool inRound = rounds != nullptr && rounds->inRound();
  if (inRound && rounds->recovered())
    return core::Error("sync answer: the round left open at mount is not committed or rolled back yet");
  if (!inRound) {  // the state now is the committed one (changes made outside a round included)
    auto h = s.state.refresh();
    if (!h.ok()) return h.error().context("sync answer");
  }
  SyncResponse response;
  core::Status refused;
  s.state.reading([&](const StateTree& tree) {
    if (inRound) {
      // The tree holds the committed state until the round's first refresh (its `root`): the
      // same root means the same hashes everywhere below it.
      if (!s.committed.has_value() || tree.root() != *s.committed) {
        refused = core::Error(
            "sync answer: this round's root was taken, so the tree holds the round's state and the "
            "committed state's hashes are not kept; ask again after the round's commit or rollback");
        return;
      }
      RoundSyncSource source(tree, *rounds);
      response = answerSyncRequest(source, *request);
      return;
    }
    auto source = LocalSyncSource::open(s.sync->stateDir, tree);
    if (!source.ok()) {
      response.op = request->op;
      response.error = source.error().message.substr(0, kMaxSyncError);
      return;
    }
    response = answerSyncRequest(*source, *request);
  });
  if (!refused.ok()) return refused.error();
  auto out = encodeSyncResponse(response);
  if (!out.ok()) return out.error().context("sync answer");
  return core::encodeBase64(*out);
}

core::Result<crypto::Hash256> parseRoot(std::string_view text) {
  crypto::Hash256 h{};
  bool ok = text.size() == 64;
  for (std::size_t i = 0; ok && i < 64; ++i) {
    const char c = text[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0)
      ok = false;
    else
      h[i / 2] = static_cast<std::uint8_t>(h[i / 2] << 4 | v);
  }
  if (!ok) return core::Error("sync to: expected the target root, 64 lowercase hex digits");
  return h;
}

// One request to the client's peer: "need <base64>", answered "have <base64>" or "fail <text>".
core::Result<core::Bytes> fetch(ControlDialog& dialog, const core::Bytes& request) {
  auto line = dialog.exchange("need " + core::encodeBase64(request));
  if (!line.ok()) return line.error();
  if (line->rfind("have ", 0) == 0) {
    auto bytes = core::decodeBase64(std::string_view(*line).substr(5));
    if (!bytes.ok()) return bytes.error().context("the client's answer");
    return bytes;
  }
  if (*line == "fail" || line->rfind("fail ", 0) == 0)
    return core::Error("fetch failed: " + (line->size() > 5 ? line->substr(5) : std::string("(no reason)")));
  return core::Error("the client answered '" + line->substr(0, 40) +
                     "', not 'have <base64>' or 'fail <text>'");
}

std::string describe(const SyncResult& r) {
  return "listings=" + std::to_string(r.listings) + " hashpages=" + std::to_string(r.blockHashPages) +
         " blocks=" + std::to_string(r.blocks) + " bytes=" + std::to_string(r.bytes) +
         " symlinks=" + std::to_string(r.symlinks) + " reused=" + std::to_string(r.reused) +
         " steps=" + std::to_string(r.steps);
}

core::Error syncError(const core::Error& e) {
  if (e.message.rfind("sync ", 0) == 0 || e.message.rfind("sync:", 0) == 0) return e;
  return e.context("sync");
}

ControlStep startSyncTo(const std::shared_ptr<ControlState>& s, std::string_view args) {
  ControlStep step;
  auto target = parseRoot(args);
  if (!target.ok()) {
    step.answer = target.error();
    return step;
  }
  RoundBackend* rounds = s->rounds;
  core::Status ok = notSyncing(*s, "sync");
  if (ok.ok() && rounds != nullptr && rounds->recovered())
    ok = core::Error("sync: the round left open at mount is not committed or rolled back yet");
  else if (ok.ok() && rounds != nullptr && rounds->inRound())
    ok = core::Error("sync: a round is open; sync runs between rounds (commit or roll it back first)");
  if (!ok.ok()) {
    step.answer = ok.error();
    return step;
  }
  s->syncing.store(true);  // on the serving thread: no verb that reads the state runs from here on
  step.talk = [s, root = *target](ControlDialog& dialog) -> core::Result<std::string> {
    struct Done {
      ControlState& s;
      ~Done() { s.syncing.store(false); }
    } done{*s};
    MessageSyncSource peer([&dialog](const core::Bytes& request) { return fetch(dialog, request); });
    core::Result<SyncResult> result = SyncResult{};
    // Changes wait for the whole sync (the runtime syncs between rounds, the contract stopped).
    auto st = s->state.withTree([&](StateTree& tree) -> core::Status {
      result = syncTo(s->sync->stateDir, tree, root, peer, s->sync->options);
      if (s->sync->synced) s->sync->synced(tree);
      if (result.ok()) s->committed = tree.root();
      return {};
    });
    if (!st.ok()) return syncError(st.error());
    if (!result.ok()) return syncError(result.error());
    if (s->sync->changed) {  // outside the exclusive section: see MountNotifier
      std::set<std::string> paths;
      for (const auto& p : result->changed) {
        paths.insert(p);
        paths.insert(p == "/" ? p : p.substr(0, std::max<std::size_t>(p.rfind('/'), 1)));
      }
      for (const auto& p : paths) s->sync->changed(p);
    }
    return core::toHexLower(root) + " " + describe(*result);
  };
  return step;
}

}  // namespace

void addSyncVerbs(ControlProtocol& p, const std::shared_ptr<ControlState>& s) {
  if (!s->sync) return;
  p.addDialog("sync", [s](std::string_view args) -> ControlStep {
    ControlStep step;
    if (args.rfind("answer ", 0) == 0) {
      step.answer = answerRequest(*s, args.substr(7));
    } else if (args.rfind("to ", 0) == 0) {
      step = startSyncTo(s, args.substr(3));
    } else {
      step.answer = core::Error("sync: expected 'answer <base64 request>' or 'to <64 hex root>'");
    }
    return step;
  });
}

}  // namespace sashimono::statefs
