#include "sashimono/statefs/ControlProtocol.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>

#include "ControlState.h"
#include "sashimono/core/Bytes.h"

namespace sashimono::statefs {

namespace {

// An error answer is one line: whatever a message holds, it cannot break the framing (cut to
// kMaxMessage bytes).
constexpr std::size_t kMaxMessage = 2048;
std::string oneLine(std::string_view s) {
  std::string out(s.substr(0, kMaxMessage));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out;
}

// The channel of answer() without a dialog: every exchange fails.
class NoDialog final : public ControlDialog {
 public:
  core::Result<std::string> exchange(std::string_view) override {
    return core::Error("no client to talk with (a dialog needs a control connection)");
  }
};

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

core::Status notSyncing(const ControlState& s, std::string_view verb) {
  if (!s.syncing.load()) return {};
  return core::Error(std::string(verb) + ": a sync is in progress");
}

void ControlProtocol::add(std::string verb, ControlVerb run) { verbs_[std::move(verb)] = std::move(run); }

void ControlProtocol::addDialog(std::string verb, ControlDialogVerb start) {
  dialogs_[std::move(verb)] = std::move(start);
}

std::string ControlProtocol::render(const core::Result<std::string>& r) {
  if (!r.ok()) return "error " + oneLine(r.error().message) + "\n";
  if (r->empty()) return "ok\n";
  // One copy of the data (an answer may be 1.6 MB), made one line and cut to kControlMaxAnswer.
  const std::size_t n = std::min(r->size(), kControlMaxAnswer - 4);
  std::string out;
  out.reserve(n + 4);
  out += "ok ";
  out.append(*r, 0, n);
  for (std::size_t i = 3; i < out.size(); ++i)
    if (out[i] < 0x20 || out[i] > 0x7e) out[i] = '?';
  out += '\n';
  return out;
}

ControlStep ControlProtocol::start(std::string_view line) const {
  ControlStep step;
  if (!isControlText(line)) {
    step.answer = core::Error("request is not printable text");
    return step;
  }
  if (line.size() >= kControlMaxLine) {
    step.answer = core::Error("request too long");
    return step;
  }
  const auto space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view args = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (auto it = verbs_.find(verb); it != verbs_.end()) {
    step.answer = it->second(args);
  } else if (auto d = dialogs_.find(verb); d != dialogs_.end()) {
    step = d->second(args);
  } else {
    step.answer = core::Error("unknown request: " + std::string(verb));
  }
  return step;
}

std::string ControlProtocol::answer(std::string_view line, ControlDialog* dialog) const {
  ControlStep step = start(line);
  if (!step.talk) return render(step.answer);
  NoDialog none;
  return render(step.talk(dialog != nullptr ? *dialog : none));
}

ControlProtocol stateControl(HashingBackend& state, RoundBackend* rounds, ViewBackend* views,
                             std::shared_ptr<const ControlSync> sync) {
  ControlProtocol p;
  p.add("ping", [](std::string_view args) { return noArgs("ping", args); });
  auto s = std::make_shared<ControlState>(state, rounds, views, std::move(sync));
  auto hex = [](const core::Result<crypto::Hash256>& h) -> core::Result<std::string> {
    if (!h.ok()) return h.error();
    return core::toHexLower(*h);
  };
  p.add("root", [s, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("root", args));
    SASHI_TRY(notSyncing(*s, "root"));
    SASHI_TRY(roomForRound(s->rounds, "root"));
    return hex(s->state.refresh());
  });
  p.add("commit", [s, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("commit", args));
    SASHI_TRY(notSyncing(*s, "commit"));
    SASHI_TRY(roomForRound(s->rounds, "commit"));
    RoundBackend* rounds = s->rounds;
    auto h = s->state.exclusive([rounds](StateTree&) -> core::Status {
      if (rounds == nullptr) return {};
      return rounds->commit();
    });
    if (h.ok()) s->committed = *h;
    return hex(h);
  });
  addSyncVerbs(p, s);
  if (rounds == nullptr) {
    for (const char* verb : {"begin", "rollback"}) {
      p.add(verb, [verb](std::string_view) -> core::Result<std::string> {
        return core::Error(std::string(verb) + ": rounds need an undo directory (statefs mount --undo DIR)");
      });
    }
    return p;
  }
  p.add("begin", [s, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("begin", args));
    SASHI_TRY(notSyncing(*s, "begin"));
    RoundBackend* rounds = s->rounds;
    if (rounds->inRound()) return core::Error("begin: a round is already open");
    // The root first (changes made outside a round are committed here), then the round.
    auto h = s->state.refresh();
    if (!h.ok()) return h.error();
    auto opened = s->state.exclusive([rounds](StateTree&) { return rounds->begin(); });
    if (!opened.ok()) return opened.error().context("begin");
    s->committed = *opened;
    return hex(opened);
  });
  p.add("rollback", [s, hex](std::string_view args) -> core::Result<std::string> {
    SASHI_TRY(noArgs("rollback", args));
    SASHI_TRY(notSyncing(*s, "rollback"));
    RoundBackend* rounds = s->rounds;
    if (!rounds->inRound()) return core::Error("rollback: no round is open");
    auto h = s->state.exclusive([rounds](StateTree& tree) { return rounds->rollback(&tree); });
    if (!h.ok()) return h.error().context("rollback");
    if (s->committed.has_value() && *s->committed != *h) {
      return core::Error("rollback: the root " + core::toHexLower(*h) + " is not the committed root " +
                         core::toHexLower(*s->committed));
    }
    return hex(h);
  });
  if (views != nullptr) {
    p.add("view", [s](std::string_view args) -> core::Result<std::string> {
      if (args == "open") {
        SASHI_TRY(notSyncing(*s, "view open"));
        if (s->rounds->recovered())
          return core::Error("view open: the round left open at mount is not committed or rolled back yet");
        if (!s->rounds->inRound() || !s->committed.has_value()) {  // the state now is the committed one
          auto h = s->state.refresh();
          if (!h.ok()) return h.error();
          s->committed = *h;
        }
        auto id = s->views->open();
        if (!id.ok()) return id.error();
        return std::to_string(*id) + " " + core::toHexLower(*s->committed);
      }
      if (args.rfind("close ", 0) == 0) {
        const std::string_view text = args.substr(6);
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty())
          return core::Error("view close: expected a view id");
        if (!s->views->close(id)) return core::Error("view close: no open view " + std::string(text));
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
