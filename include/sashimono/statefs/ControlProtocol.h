#pragma once
// ControlProtocol: the requests of a state filesystem's control channel and their answers
// (docs/STATEFS.md, "Control channel"), without any transport: ControlServer carries the
// lines, this answers them (parse → process → render, verbs registered in a table).
//
//   request  VERB [" " ARGS] "\n"             printable ASCII, at most kControlMaxLine bytes
//   answer   "ok" [" " DATA] "\n" | "error " MESSAGE "\n"      exactly one per request, in order
//
// Thread-safety: answer() is const and calls the verbs; a verb decides its own locking.
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::statefs {

class HashingBackend;
class RoundBackend;
class ViewBackend;

inline constexpr std::size_t kControlMaxLine = 256;  // bytes of a request, its '\n' included

// Runs a verb: the DATA of an "ok" answer (may be empty), or the error to answer.
using ControlVerb = std::function<core::Result<std::string>(std::string_view args)>;

class ControlProtocol {
 public:
  void add(std::string verb, ControlVerb run);
  // The answer line (with its '\n') to one request line (without it).
  [[nodiscard]] std::string answer(std::string_view line) const;

 private:
  std::map<std::string, ControlVerb, std::less<>> verbs_;
};

// A request line is acceptable: printable ASCII only (no control bytes, no NUL).
[[nodiscard]] bool isControlText(std::string_view line);

// The verbs of a mounted state (`state`, `rounds` and `views` must outlive the protocol):
//   ping      → ok
//   root      → ok <64 hex>: applies the marks and answers the state hash (in a round: the
//               round's current state)
//   begin     → ok <64 hex>: opens a round; answers the committed root it starts from (changes
//               made outside a round are committed by it)
//   commit    → ok <64 hex>: ends the round keeping its changes; the root is the committed
//               state hash (outside a round: the same as root)
//   rollback  → ok <64 hex>: ends the round undoing its changes; the root is the committed one
//               again (checked: an error says if it is not)
//   status    → ok round|idle <undo log bytes>
//   view open → ok <id> <64 hex>: a read-only view of the committed state, at <views dir>/<id>,
//               and the root it shows (outside a round: the current state, committed)
//   view close <id> → ok
// Without `rounds` (no undo directory), begin and rollback are refused; without `views`, view.
ControlProtocol stateControl(HashingBackend& state, RoundBackend* rounds = nullptr,
                             ViewBackend* views = nullptr);

}  // namespace sashimono::statefs
