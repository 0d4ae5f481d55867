#pragma once
// UndoLog: the write-ahead undo log of a round (docs/STATEFS.md, "Rounds").
//
// A round's changes are made in place in the state directory. Before each change, what undoes it
// is made durable in the round directory, `<undo dir>/round/`, which lies beside the state, on
// the same filesystem, outside it:
//
//   round/log        the records, appended; each  len(4) ‖ fnv1a64(body)(8) ‖ body(len)
//   round/files/ID   a hard link to a file whose bytes, size or mode the round changed: the
//                    records name the file by ID, so its data is found whatever its names
//   round/trash/ID   what the round removed (unlink, rmdir, the target of a rename): moved here
//
// Record bodies (integers big-endian, strings u16 length ‖ bytes):
//   1 created  path          the name did not exist; undo: remove it
//   2 trashed  path id       the entry at path was moved to trash/ID; undo: move it back
//   3 renamed  from to       undo: rename to → from
//   4 exchanged a b ia ib    undo: exchange again, if a holds inode ib and b inode ia
//   5 pathmode path mode     undo: chmod path
//   6 filemode id mode       undo: chmod files/ID
//   7 size     id size       the file's size before its first size change; undo: truncate
//   8 block    id index data the bytes of 64 KiB block `index` before its first change
// Undo replays the records in reverse, cutting the log after each step. Every step tolerates a
// change that never happened (a record is durable before its change, and a crash may come in
// between) and being done twice (a crash between a step and its cut): a rename back whose
// source is missing, or whose target exists, is skipped; an exchange is undone only while the
// names hold each other's inodes. A torn last record (a crash while appending it) ends the log:
// its change had not started.
//
// Thread-safety: none; RoundBackend serialises its use.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

class StateTree;

inline constexpr std::uint64_t kUndoBlock = 64 * 1024;  // the hash tree's block size

enum class UndoOp : std::uint8_t {
  kCreated = 1,
  kTrashed = 2,
  kRenamed = 3,
  kExchanged = 4,
  kPathMode = 5,
  kFileMode = 6,
  kSize = 7,
  kBlock = 8,
};

struct UndoRecord {
  UndoOp op = UndoOp::kCreated;
  std::string path;                // created, trashed, renamed (from), exchanged (a), pathmode
  std::string path2;               // renamed (to), exchanged (b)
  std::uint64_t id = 0;            // trashed, filemode, size, block
  std::uint64_t value = 0;         // mode, size, or block index
  std::vector<std::uint8_t> data;  // block

  static UndoRecord make(UndoOp op, std::string path, std::string path2, std::uint64_t id,
                         std::uint64_t value, std::vector<std::uint8_t> data = {}) {
    UndoRecord r;
    r.op = op;
    r.path = std::move(path);
    r.path2 = std::move(path2);
    r.id = id;
    r.value = value;
    r.data = std::move(data);
    return r;
  }
  static UndoRecord created(std::string path) { return make(UndoOp::kCreated, std::move(path), {}, 0, 0); }
  static UndoRecord trashed(std::string path, std::uint64_t id) {
    return make(UndoOp::kTrashed, std::move(path), {}, id, 0);
  }
  static UndoRecord renamed(std::string from, std::string to) {
    return make(UndoOp::kRenamed, std::move(from), std::move(to), 0, 0);
  }
  // `inoA`/`inoB`: the inodes at a and b before the exchange.
  static UndoRecord exchanged(std::string a, std::string b, std::uint64_t inoA, std::uint64_t inoB) {
    return make(UndoOp::kExchanged, std::move(a), std::move(b), inoA, inoB);
  }
  static UndoRecord pathMode(std::string path, std::uint64_t mode) {
    return make(UndoOp::kPathMode, std::move(path), {}, 0, mode);
  }
  static UndoRecord fileMode(std::uint64_t id, std::uint64_t mode) {
    return make(UndoOp::kFileMode, {}, {}, id, mode);
  }
  static UndoRecord size(std::uint64_t id, std::uint64_t size) {
    return make(UndoOp::kSize, {}, {}, id, size);
  }
  static UndoRecord block(std::uint64_t id, std::uint64_t index, std::vector<std::uint8_t> data) {
    return make(UndoOp::kBlock, {}, {}, id, index, std::move(data));
  }
};

// The framed record (length, checksum, body). Pure.
[[nodiscard]] std::vector<std::uint8_t> encodeUndoRecord(const UndoRecord& r);
// Decodes the record framed at the start of `bytes`: the record and the bytes it took, or
// nothing when `bytes` holds no complete, intact record (a torn tail). Pure.
struct DecodedUndo {
  UndoRecord record;
  std::size_t size = 0;
};
[[nodiscard]] std::optional<DecodedUndo> decodeUndoRecord(std::span<const std::uint8_t> bytes);

// Where a block record's bytes begin, from the record's offset.
inline constexpr std::uint64_t kUndoBlockDataOffset = 12 + 1 + 8 + 8 + 4;

// The name of files/ID and trash/ID.
[[nodiscard]] std::string undoIdName(std::uint64_t id);

class UndoLog {
 public:
  // Opens `dir` (the undo directory, created if missing, mode 0700). It must be on the same
  // filesystem as the state, since entries move between them by rename. `source` must outlive
  // the log.
  [[nodiscard]] static core::Result<UndoLog> open(const std::string& dir, const SourceDir& source);
  UndoLog(UndoLog&&) noexcept = default;
  UndoLog& operator=(UndoLog&&) noexcept = default;

  // A round directory is present: a round was open (and not finished) when the daemon stopped.
  [[nodiscard]] bool roundPresent() const;
  // Undoes the round on disk, if one is present, then discards it (recovery at mount). `marks`,
  // when given, is told what was restored (for a refresh).
  [[nodiscard]] core::Status rollback(StateTree* marks);
  // Takes up the round on disk again, as it is (a daemon restarted between a round's end and its
  // commit: the runtime decides). True when there is one to take up; false when none is present
  // or it is incomplete (begin() died before its log existed: no change was made; discarded).
  [[nodiscard]] core::Result<bool> resume();
  // Starts a round: an empty round directory, durable.
  [[nodiscard]] core::Status begin();
  // Ends the round keeping its changes: the round directory is renamed away (atomic) and removed.
  [[nodiscard]] core::Status commit();

  // ---- during a round ----
  // Appends a record (not yet durable); -errno. On failure nothing is appended. `at` (optional)
  // receives the record's offset in the log.
  [[nodiscard]] int append(const UndoRecord& r, std::uint64_t* at = nullptr);
  [[nodiscard]] int logFd() const { return log_.get(); }
  // Makes the appended records durable; -errno (then the appended records are cut off again).
  [[nodiscard]] int sync();
  // Cuts the log back to `end` (an earlier logBytes()), durably: records of a change that failed
  // and whose undo would not be harmless (an exchange). -errno.
  [[nodiscard]] int cutTo(std::uint64_t end);
  [[nodiscard]] int trashFd() const { return trash_.get(); }
  [[nodiscard]] int filesFd() const { return files_.get(); }
  [[nodiscard]] std::uint64_t nextId() { return nextId_++; }
  // Bytes of the log (tests, the status answer).
  [[nodiscard]] std::uint64_t logBytes() const { return end_; }

 private:
  UndoLog() = default;
  static core::Result<UndoLog> openIn(const std::string& dir, const SourceDir& source);
  core::Status openRound();
  core::Status discardRound(const char* name);

  std::string dir_;
  UniqueFd dirFd_;
  const SourceDir* source_ = nullptr;
  UniqueFd log_, files_, trash_;
  std::uint64_t end_ = 0;      // bytes appended to the log
  std::uint64_t durable_ = 0;  // bytes known durable
  std::uint64_t nextId_ = 1;
};

// Undoes the records of a log in reverse against the state in `source`: `logBytes` is the log's
// content, `files`/`trash` the round's directories. `marks` (optional) is told what changed;
// `undone` (optional) the offset of each record once it is undone.
[[nodiscard]] core::Status replayUndo(std::span<const std::uint8_t> logBytes, const SourceDir& source,
                                      int files, int trash, StateTree* marks,
                                      const std::function<void(std::size_t)>& undone = {});

}  // namespace sashimono::statefs
