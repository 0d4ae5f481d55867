#pragma once
// RoundJournal: the name changes of the open round, in order, and what they say about the
// committed state — the view resolution of docs/STATEFS.md, "Read-only views". Pure logic.
//
// A round changes the state in place; nothing it removes is deleted (it goes to the round's
// trash, undoLog's trash/ID). So every object of the committed state still exists, somewhere:
// at a state path ("/a/b"), or in the trash ("#7/b": entry b inside trash/7). Replaying the
// journal forward moves a committed path to where its object is now (locate); replaying it
// backward moves a current location to the committed path it had, or says the round created it
// (committedPathOf). A committed directory's entries are what its current location holds that
// maps back to it, plus the entries the journal moved out of it (movedChildren).
//
// Thread-safety: none (RoundBackend holds its lock).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/statefs/UndoLog.h"

namespace sashimono::statefs {

struct JournalEntry {
  UndoOp op = UndoOp::kCreated;  // created, trashed, renamed, exchanged, pathmode, filemode
  std::string a, b;              // paths (created/trashed/pathmode: a; renamed/exchanged: a, b)
  std::uint64_t id = 0;          // trashed: the trash entry
  std::uint64_t mode = 0;        // pathmode, filemode: the mode before
  ino_t ino = 0;                 // pathmode, filemode: the object
};

// The location of trash entry `id` ("#<id>").
[[nodiscard]] std::string trashLocation(std::uint64_t id);

class RoundJournal {
 public:
  void add(JournalEntry e) { entries_.push_back(std::move(e)); }
  void clear() { entries_.clear(); }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }

  // Where the object at committed path `path` is now.
  [[nodiscard]] std::string locate(std::string_view path) const;
  // The committed path of what is at `where` after the first `upTo` entries (all by default);
  // nothing when the round created it.
  [[nodiscard]] std::optional<std::string> committedPathOf(std::string_view where,
                                                           std::size_t upTo = SIZE_MAX) const;
  // Names of entries of the committed directory `dir` that the journal moved away from it.
  [[nodiscard]] std::vector<std::string> movedChildren(std::string_view dir) const;
  // The committed permission bits of the object with inode `ino`, when the round changed them.
  [[nodiscard]] std::optional<mode_t> committedMode(ino_t ino) const;

 private:
  std::vector<JournalEntry> entries_;
};

// `path` is `prefix` or lies under it: the rest ("" or "/x/y"); else nothing. Pure.
[[nodiscard]] std::optional<std::string_view> underPath(std::string_view path, std::string_view prefix);

}  // namespace sashimono::statefs
