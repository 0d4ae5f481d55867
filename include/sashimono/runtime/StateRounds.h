#pragma once
// The state side of a round (docs/RUNTIME.md, "Rounds" and "State hash"). The state hash is
// always the root of the contract fs's hash tree (statefs::StateTree: state/, patch.cfg,
// bundle.json), the value `sashimono statefs hash DIR` prints, so ledgers mean the same everywhere:
//   - in a tenant the state filesystem keeps that tree as the contract writes; the runtime asks
//     its control socket, which only the runtime can reach. A round runs between `begin` and
//     `commit` (or `rollback`, which returns the state to the last committed root) when the
//     mount keeps an undo log (statefs mount --undo);
//   - elsewhere (`sashimono dev`, local instances, tests) the runtime keeps a StateTree of the
//     directory itself: built at the first round, then rescan() + refresh() (a round that changed
//     little rehashes little). No rounds: nothing can be rolled back.
// State sync (docs/STATEFS.md, "Sync"): a member whose state fell behind brings it to the root
// the others agreed on with syncTo(), fetching from a peer only what differs; the peer answers
// with answerSync(). The bytes are statefs sync messages (SyncMessage.h); the transport is the
// caller's. In a tenant the daemon does both (`sync to`, `sync answer` on its control socket).
// Thread-compatible: one thread (the round engine) at a time, except answerSync (any thread).
// StateViews: any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/statefs/Sync.h"

namespace sashimono::runtime {

// Sends one sync request to a peer; the peer's response (what its answerSync gave), or why not.
using SyncFetch = std::function<core::Result<core::Bytes>(core::ByteView request)>;

class StateRounds {
 public:
  virtual ~StateRounds() = default;
  // Before the contract runs: opens a round. Ok without one where no undo log is kept (local;
  // a state filesystem without --undo, logged once); inRound() tells which. A round still open
  // (an earlier commit or rollback failed) is first ended as recover(lcl) would.
  [[nodiscard]] virtual core::Status begin(const LedgerRecord& lcl) {
    (void)lcl;
    return {};
  }
  // Whether begin() opens rounds that rollback() undoes (a state filesystem with its undo log; not
  // a local directory): a cluster member then runs a plan before it is certified (docs/CLUSTER.md).
  [[nodiscard]] virtual bool canUndo() const { return false; }
  // A round is open (begin() opened it and neither commit() nor rollback() ended it).
  [[nodiscard]] virtual bool inRound() const { return false; }
  // The state hash now, the round's writes included.
  [[nodiscard]] virtual core::Result<Hash> root() = 0;
  // Ends the round keeping its writes: the committed state hash (no round: the same as root()).
  [[nodiscard]] virtual core::Result<Hash> commit() = 0;
  // Ends the round undoing its writes: the committed state hash again.
  [[nodiscard]] virtual core::Result<Hash> rollback() { return core::Error("no round to roll back"); }
  // At start, before anything writes the state: a round a previous run left open is ended —
  // committed when its state is the last ledger's (the ledger was stored, the commit did not
  // happen), rolled back otherwise. `lcl` is the last ledger (seq 0: none).
  [[nodiscard]] virtual core::Status recover(const LedgerRecord& lcl) {
    (void)lcl;
    return {};
  }
  // Answers a peer's sync request from the committed state (any thread). A request the state
  // cannot answer now gets an encoded error response that tells the peer why (a tenant: a round
  // whose root was taken, a sync running, the state filesystem unreachable); an error only for
  // a request that does not decode (the peer sent garbage).
  //   - statefs: the state as of the last commit, also while a round writes, until the round's
  //     root is taken (then refused until its commit or rollback);
  //   - local: the tree of the last root()/commit() (built at the first request), each block
  //     checked against it: a file changed since is refused, never served.
  [[nodiscard]] virtual core::Result<core::Bytes> answerSync(core::ByteView request) {
    (void)request;
    return core::Error("state sync is not available here");
  }
  // Between rounds (refused while one is open): brings the state to `root`, sending each sync
  // request through `fetch` and verifying every answer against `root`; returns the new state
  // hash (= root). On error the state is as it was (the sync undoes what it applied). `counts`,
  // when given, receives what was fetched (also logged).
  [[nodiscard]] virtual core::Result<Hash> syncTo(const Hash& root, const SyncFetch& fetch,
                                                  statefs::SyncResult* counts = nullptr) {
    (void)root;
    (void)fetch;
    (void)counts;
    return core::Error("state sync is not available here");
  }
};

// A StateTree of `dir`, kept by the runtime. After an error the next call builds it anew.
// syncTo stages in `stagingDir` (outside `dir`, on its filesystem; syncTo removes it when done),
// by default the sibling ".<name of dir>.sync".
std::unique_ptr<StateRounds> makeLocalStateRounds(std::string dir, std::string stagingDir = {});

// The state filesystem's control socket at `socketPath`: one connection, kept between rounds and
// made again (once per call) when it fails; each request and answer within `timeout`.
std::unique_ptr<StateRounds> makeStatefsStateRounds(
    std::string socketPath, std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Read-only views of the committed state, for read requests.
class StateViews {
 public:
  virtual ~StateViews() = default;
  struct View {
    std::uint64_t id = 0;
    std::string dir;  // the committed contract fs: <views dir>/<id>
  };
  // Opens a view; an error when views are unavailable (no answer, no views mount).
  [[nodiscard]] virtual core::Result<View> open() = 0;
  virtual void close(const View& v) = 0;
};

// `view open` / `view close ID` on the control socket at `socketPath`; the views are directories
// of `viewsDir` (checked to exist: an image without the views mount has an empty directory or none).
std::unique_ptr<StateViews> makeStatefsViews(std::string socketPath, std::string viewsDir,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The hash in a `commit` (begin, root, rollback) answer line (without its '\n'): "ok <64 hex>";
// "error …" becomes the error.
[[nodiscard]] core::Result<Hash> parseCommitAnswer(std::string_view line);

}  // namespace sashimono::runtime
