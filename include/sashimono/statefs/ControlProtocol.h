#pragma once
// ControlProtocol: the requests of a state filesystem's control channel and their answers
// (docs/STATEFS.md, "Control channel"), without any transport: ControlServer carries the
// lines, this answers them (parse → process → render, verbs registered in a table).
//
//   request  VERB [" " ARGS] "\n"             printable ASCII, at most kControlMaxLine bytes
//   answer   "ok" [" " DATA] "\n" | "error " MESSAGE "\n"      exactly one per request, in order
//
// A dialog verb (`sync to`) talks with its client before it answers: it sends lines to the
// client and reads the client's replies (ControlDialog), then gives its one answer. Its client
// sends nothing else meanwhile. A reply line may be longer than a request (kControlMaxReply).
//
// Thread-safety: answer() and start() are const and call the verbs; a verb decides its own
// locking. ControlServer calls start() on its thread and runs a dialog on a thread of its own.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sashimono/core/Base64.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/statefs/Sync.h"
#include "sashimono/statefs/SyncMessage.h"

namespace sashimono::statefs {

class HashingBackend;
class RoundBackend;
class ViewBackend;

// Binary data in a line is base64 (core/Base64.h), decoded strictly.

// Bytes of a request, its '\n' included: room for `sync answer <base64 of the largest request>`.
inline constexpr std::size_t kControlMaxLine = 8192;
static_assert(kControlMaxLine >= 12 + core::base64Size(kMaxSyncRequestBytes) + 1);
// Bytes of a line a client sends while a dialog waits for it, its '\n' included: `have <base64 of
// the largest sync response>` (1,632,954 bytes).
inline constexpr std::size_t kControlMaxReply = 5 + core::base64Size(kMaxSyncResponseBytes) + 1;
// Bytes of the longest answer line the daemon sends: `ok <base64 of the largest response>`.
inline constexpr std::size_t kControlMaxAnswer = 3 + core::base64Size(kMaxSyncResponseBytes) + 1;
// How long a dialog waits for its client's reply.
inline constexpr std::chrono::milliseconds kControlDialogTimeout = std::chrono::seconds(120);

// Runs a verb: the DATA of an "ok" answer (may be empty), or the error to answer.
using ControlVerb = std::function<core::Result<std::string>(std::string_view args)>;

// The client's side of a running dialog.
class ControlDialog {
 public:
  virtual ~ControlDialog() = default;
  // Sends `line` (without '\n') and returns the client's next line (without its "\n" or "\r\n"),
  // or an error: the client left, sent no line within the timeout, or sent one that is too long
  // (kControlMaxReply) or not printable text.
  [[nodiscard]] virtual core::Result<std::string> exchange(std::string_view line) = 0;
};

// A dialog under way: talks through the dialog, then answers (the DATA of "ok", or the error).
using ControlTalk = std::function<core::Result<std::string>(ControlDialog& dialog)>;
// What a dialog verb's start gives: an answer now (`talk` empty), or a dialog to run.
struct ControlStep {
  core::Result<std::string> answer = std::string();
  ControlTalk talk;
};
// Starts a dialog verb: checks the request and claims what the dialog needs, in order with the
// plain verbs; the talk then runs while other clients are served.
using ControlDialogVerb = std::function<ControlStep(std::string_view args)>;

class ControlProtocol {
 public:
  void add(std::string verb, ControlVerb run);
  void addDialog(std::string verb, ControlDialogVerb start);
  // The answer line (with its '\n') to one request line (without it). A dialog verb talks through
  // `dialog`; without one, each of its exchanges fails (the dialog then ends with its error).
  [[nodiscard]] std::string answer(std::string_view line, ControlDialog* dialog = nullptr) const;
  // The first part of answer(): the answer of a plain request (or of a refused dialog), or the
  // dialog to run, whose result render() turns into the answer line.
  [[nodiscard]] ControlStep start(std::string_view line) const;
  [[nodiscard]] static std::string render(const core::Result<std::string>& r);

 private:
  std::map<std::string, ControlVerb, std::less<>> verbs_;
  std::map<std::string, ControlDialogVerb, std::less<>> dialogs_;
};

// A request line is acceptable: printable ASCII only (no control bytes, no NUL).
[[nodiscard]] bool isControlText(std::string_view line);

// What `sync` needs of a mount: the state directory the backends serve (its path: syncTo works
// on it) and syncTo's options (the staging directory). Both callbacks are optional: `synced` is
// called after each `sync to`, with the tree and changes still blocked (the mount saves its
// TreeStore there); `changed`, after a `sync to` that changed the state, once changes are let
// through again, with each path it changed (the mount drops the kernel's caches of them).
struct ControlSync {
  std::string stateDir;
  SyncOptions options;
  std::function<void(StateTree&)> synced;
  std::function<void(const std::string& path)> changed;
};

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
//   sync answer <base64 request> → ok <base64 response>: a peer's sync request answered from
//               the committed state (ControlSync.cpp)
//   sync to <64 hex> (a dialog) → "need <base64 request>" lines, each answered by the client
//               with "have <base64 response>" or "fail <text>"; then ok <64 hex> <counts>
// Without `rounds` (no undo directory), begin and rollback are refused; without `views`, view;
// without `sync`, sync.
ControlProtocol stateControl(HashingBackend& state, RoundBackend* rounds = nullptr,
                             ViewBackend* views = nullptr, std::shared_ptr<const ControlSync> sync = nullptr);

}  // namespace sashimono::statefs
