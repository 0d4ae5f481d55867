#pragma once
// Where a round's state hash comes from (docs/RUNTIME.md, "State hash"). It is always the root of
// the contract fs's hash tree (statefs::StateTree: state/, patch.cfg, bundle.json), the value
// `sashimono statefs hash DIR` prints, so ledgers mean the same everywhere:
//   - in a tenant the state filesystem keeps that tree as the contract writes; the runtime asks
//     its control socket (`commit` → `ok <64 hex>`), which only the runtime can reach;
//   - elsewhere (`sashimono dev`, local instances, tests) the runtime keeps a StateTree of the
//     directory itself: built at the first round, then rescan() + refresh() (a round that changed
//     little rehashes little).
// Thread-compatible: one thread (the round engine) at a time.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

class StateHashSource {
 public:
  virtual ~StateHashSource() = default;
  // The state hash once the round's writes are done (the contract has exited).
  [[nodiscard]] virtual core::Result<Hash> commit() = 0;
};

// A StateTree of `dir`, kept by the runtime. After an error the next call builds it anew.
std::unique_ptr<StateHashSource> makeLocalStateHash(std::string dir);

// The state filesystem's control socket at `socketPath`: one connection, kept between rounds and
// made again (once per call) when it fails; each request and answer within `timeout`.
std::unique_ptr<StateHashSource> makeStatefsStateHash(
    std::string socketPath, std::chrono::milliseconds timeout = std::chrono::seconds(120));

// The hash in a `commit` answer line (without its '\n'): "ok <64 hex>"; "error …" becomes the error.
[[nodiscard]] core::Result<Hash> parseCommitAnswer(std::string_view line);

}  // namespace sashimono::runtime
