#include "sashimono/statefs/RoundJournal.h"

#include <algorithm>

namespace sashimono::statefs {

std::string trashLocation(std::uint64_t id) { return "#" + undoIdName(id); }

std::optional<std::string_view> underPath(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return path == "/" ? std::string_view() : path;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return std::nullopt;
  if (path.size() == prefix.size()) return std::string_view();
  if (path[prefix.size()] != '/') return std::nullopt;
  return path.substr(prefix.size());
}

namespace {

// `path` moved from `from` to `to` (when it lies under `from`).
bool moveUnder(std::string& path, std::string_view from, std::string_view to) {
  auto rest = underPath(path, from);
  if (!rest) return false;
  path = std::string(to) + std::string(*rest);
  return true;
}

std::string_view parentOf(std::string_view p) {
  const auto slash = p.rfind('/');
  return slash == 0 ? std::string_view("/") : p.substr(0, slash);
}

}  // namespace

std::string RoundJournal::locate(std::string_view path) const {
  std::string loc(path);
  for (const auto& e : entries_) {
    switch (e.op) {
      case UndoOp::kTrashed:
        moveUnder(loc, e.a, trashLocation(e.id));
        break;
      case UndoOp::kRenamed:
        moveUnder(loc, e.a, e.b);
        break;
      case UndoOp::kExchanged:
        if (!moveUnder(loc, e.a, e.b)) moveUnder(loc, e.b, e.a);
        break;
      default:
        break;
    }
  }
  return loc;
}

std::optional<std::string> RoundJournal::committedPathOf(std::string_view where, std::size_t upTo) const {
  std::string loc(where);
  for (std::size_t i = std::min(upTo, entries_.size()); i-- > 0;) {
    const auto& e = entries_[i];
    switch (e.op) {
      case UndoOp::kCreated:
        if (underPath(loc, e.a)) return std::nullopt;
        break;
      case UndoOp::kTrashed:
        moveUnder(loc, trashLocation(e.id), e.a);
        break;
      case UndoOp::kRenamed:
        moveUnder(loc, e.b, e.a);
        break;
      case UndoOp::kExchanged:
        if (!moveUnder(loc, e.a, e.b)) moveUnder(loc, e.b, e.a);
        break;
      default:
        break;
    }
  }
  if (loc.empty() || loc[0] != '/') return std::nullopt;  // a trash location no entry explains
  return loc;
}

std::vector<std::string> RoundJournal::movedChildren(std::string_view dir) const {
  std::vector<std::string> names;
  auto consider = [&](const std::string& movedFrom, std::size_t i) {
    auto c = committedPathOf(movedFrom, i);
    if (!c || *c == "/" || parentOf(*c) != dir) return;
    names.push_back(c->substr(c->rfind('/') + 1));
  };
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    if (e.op == UndoOp::kTrashed || e.op == UndoOp::kRenamed) consider(e.a, i);
    if (e.op == UndoOp::kExchanged) {
      consider(e.a, i);
      consider(e.b, i);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::optional<mode_t> RoundJournal::committedMode(ino_t ino) const {
  // A mode belongs to the inode (every hard link has it), and inode numbers are stable within a
  // round: nothing the committed state holds is deleted, so no new object can take its number.
  for (const auto& e : entries_)
    if ((e.op == UndoOp::kPathMode || e.op == UndoOp::kFileMode) && e.ino == ino)
      return static_cast<mode_t>(e.mode);
  return std::nullopt;
}

}  // namespace sashimono::statefs
