#include "sashimono/statefs/ControlProtocol.h"

#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/HashingBackend.h"

namespace sashimono::statefs {

namespace {

// An answer is one line: whatever a message holds, it cannot break the framing.
std::string oneLine(std::string_view s) {
  std::string out(s.substr(0, kControlMaxLine * 2));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

core::Result<std::string> noArgs(std::string_view verb, std::string_view args) {
  if (!args.empty()) return core::Error(std::string(verb) + " takes no arguments");
  return std::string();
}

}  // namespace

bool isControlText(std::string_view line) {
  for (char c : line)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

void ControlProtocol::add(std::string verb, ControlVerb run) { verbs_[std::move(verb)] = std::move(run); }

std::string ControlProtocol::answer(std::string_view line) const {
  if (!isControlText(line)) return "error request is not printable text\n";
  if (line.size() >= kControlMaxLine) return "error request too long\n";
  const auto space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view args = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  auto it = verbs_.find(verb);
  if (it == verbs_.end()) return "error unknown request: " + oneLine(verb) + "\n";
  auto r = it->second(args);
  if (!r.ok()) return "error " + oneLine(r.error().message) + "\n";
  return r->empty() ? std::string("ok\n") : "ok " + oneLine(*r) + "\n";
}

ControlProtocol stateControl(HashingBackend& state) {
  ControlProtocol p;
  p.add("ping", [](std::string_view args) { return noArgs("ping", args); });
  auto root = [&state](std::string_view verb, std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs(verb, args));
    auto h = state.refresh();
    if (!h.ok()) return h.error();
    return core::toHexLower(*h);
  };
  p.add("root", [root](std::string_view args) { return root("root", args); });
  // A round's end. Rounds with checkpoints and rollback come later; until then commit closes
  // nothing and answers the state hash, as root does.
  p.add("commit", [root](std::string_view args) { return root("commit", args); });
  for (const char* verb : {"begin", "rollback"}) {
    p.add(verb, [verb](std::string_view) -> core::Result<std::string> {
      return core::Error(std::string(verb) + ": rounds with rollback are not supported yet");
    });
  }
  return p;
}

}  // namespace sashimono::statefs
