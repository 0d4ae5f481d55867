#include "sashimono/statefs/ControlProtocol.h"

#include <charconv>
#include <memory>
#include <optional>
#include "sashimono/core/Bytes.h"

#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/RoundBackend.h"
#include "sashimono/statefs/ViewBackend.h"

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

// A round that lost changes for want of space has no root to agree on, and cannot be committed.
core::Status roomForRound(const RoundBackend* rounds, std::string_view verb) {
  if (rounds == nullptr || !rounds->inRound() || rounds->spaceRefusals() == 0) return {};
  return core::Error(std::string(verb) + ": the disk is full: " + std::to_string(rounds->spaceRefusals()) +
                     " change(s) of this round refused (ENOSPC/EDQUOT); roll the round back");
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

ControlProtocol stateControl(HashingBackend& state, RoundBackend* rounds, ViewBackend* views) {
  ControlProtocol p;
  p.add("ping", [](std::string_view args) { return noArgs("ping", args); });
  // The last committed root, for rollback's check (the state at mount is committed).
  auto committed = std::make_shared<std::optional<crypto::Hash256>>();
  auto hex = [](const core::Result<crypto::Hash256>& h) -> core::Result<std::string> {
    if (!h.ok()) return h.error();
    return core::toHexLower(*h);
  };
  p.add("root", [&state, rounds, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("root", args));
    SASHI_TRY(roomForRound(rounds, "root"));
    return hex(state.refresh());
  });
  p.add("commit", [&state, rounds, committed, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("commit", args));
    SASHI_TRY(roomForRound(rounds, "commit"));
    auto h = state.exclusive([rounds](StateTree&) -> core::Status {
      if (rounds == nullptr) return {};
      return rounds->commit();
    });
    if (h.ok()) *committed = *h;
    return hex(h);
  });
  if (rounds == nullptr) {
    for (const char* verb : {"begin", "rollback"}) {
      p.add(verb, [verb](std::string_view) -> core::Result<std::string> {
        return core::Error(std::string(verb) + ": rounds need an undo directory (statefs mount --undo DIR)");
      });
    }
    return p;
  }
  p.add("begin", [&state, rounds, committed, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("begin", args));
    if (rounds->inRound()) return core::Error("begin: a round is already open");
    // The root first (changes made outside a round are committed here), then the round.
    auto h = state.refresh();
    if (!h.ok()) return h.error();
    auto opened = state.exclusive([rounds](StateTree&) { return rounds->begin(); });
    if (!opened.ok()) return opened.error().context("begin");
    *committed = *opened;
    return hex(opened);
  });
  p.add("rollback", [&state, rounds, committed, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("rollback", args));
    if (!rounds->inRound()) return core::Error("rollback: no round is open");
    auto h = state.exclusive([rounds](StateTree& tree) { return rounds->rollback(&tree); });
    if (!h.ok()) return h.error().context("rollback");
    if (committed->has_value() && **committed != *h) {
      return core::Error("rollback: the root " + core::toHexLower(*h) + " is not the committed root " +
                         core::toHexLower(**committed));
    }
    return hex(h);
  });
  if (views != nullptr) {
    p.add("view", [&state, rounds, views, committed](std::string_view args) -> core::Result<std::string> {
      if (args == "open") {
        if (rounds->recovered())
          return core::Error("view open: the round left open at mount is not committed or rolled back yet");
        if (!rounds->inRound() || !committed->has_value()) {  // the state now is the committed one
          auto h = state.refresh();
          if (!h.ok()) return h.error();
          *committed = *h;
        }
        auto id = views->open();
        if (!id.ok()) return id.error();
        return std::to_string(*id) + " " + core::toHexLower(**committed);
      }
      if (args.rfind("close ", 0) == 0) {
        const std::string_view text = args.substr(6);
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty())
          return core::Error("view close: expected a view id");
        if (!views->close(id)) return core::Error("view close: no open view " + std::string(text));
        return std::string();
      }
      return core::Error("view: expected 'open' or 'close ID'");
    });
  }
  p.add("status", [rounds](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("status", args));
    // "idle BYTES" or "round BYTES", then " recovered" for a round taken up at mount and
    // " full N" once changes of the round were refused for want of space.
    std::string s = std::string(rounds->inRound() ? "round " : "idle ") + std::to_string(rounds->undoBytes());
    if (rounds->recovered()) s += " recovered";
    if (rounds->inRound() && rounds->spaceRefusals() > 0)
      s += " full " + std::to_string(rounds->spaceRefusals());
    return s;
  });
  return p;
}

}  // namespace sashimono::statefs
