#include "sashimono/statefs/SyncMessage.h"

#include <climits>
#include <cstring>

#include "sashimono/statefs/StatePath.h"

namespace sashimono::statefs {

namespace {

core::Error bad(const std::string& what) { return core::Error("sync message: " + what); }

bool validOp(std::uint8_t op) { return op >= 1 && op <= 4; }

core::Status checkPath(std::string_view path) {
  SplitPath sp;
  if (path.size() > kMaxSyncPath || splitStatePath(path, sp) != 0) return bad("not a state path");
  return {};
}

core::Status checkRequest(const SyncRequest& r) {
  if (!validOp(static_cast<std::uint8_t>(r.op))) return bad("unknown op");
  SASHI_TRY(checkPath(r.path));
  if (r.op == SyncOp::listing && !r.after.empty() && !isPlainName(r.after))
    return bad("bad name to list after");
  if ((r.op == SyncOp::blockHashes || r.op == SyncOp::block) && r.index >= kMaxBlockIndex)
    return bad("block index out of range");
  return {};
}

core::Status checkEntries(const std::vector<TreeEntry>& entries) {
  if (entries.size() > kMaxEntriesPerPage) return bad("too many entries");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TreeEntry& e = entries[i];
    if (!isPlainName(e.name)) return bad("entry " + std::to_string(i) + ": bad name");
    if (i > 0 && !(entries[i - 1].name < e.name))
      return bad("entry " + std::to_string(i) + ": names not ascending");
    const auto kind = static_cast<std::uint8_t>(e.kind);
    if (kind < 1 || kind > 4) return bad("entry " + std::to_string(i) + ": unknown kind");
    if (e.perm > 07777) return bad("entry " + std::to_string(i) + ": bad permission bits");
    if (e.kind != EntryKind::file && e.size != 0)
      return bad("entry " + std::to_string(i) + ": size of a non-file");
  }
  return {};
}

core::Status checkResponse(const SyncResponse& r) {
  if (!validOp(static_cast<std::uint8_t>(r.op))) return bad("unknown op");
  const bool noBody = r.entries.empty() && r.cvs.empty() && r.data.empty() && r.target.empty();
  if (!r.error.empty()) {
    if (r.error.size() > kMaxSyncError) return bad("error message too long");
    if (!noBody) return bad("an error response carries no answer");
    return {};
  }
  if (r.op != SyncOp::listing && !r.entries.empty()) return bad("entries in a response that is no listing");
  if (r.op != SyncOp::blockHashes && !r.cvs.empty()) return bad("block hashes in the wrong response");
  if (r.op != SyncOp::block && !r.data.empty()) return bad("block bytes in the wrong response");
  if (r.op != SyncOp::symlink && !r.target.empty()) return bad("a target in the wrong response");
  SASHI_TRY(checkEntries(r.entries));
  if (r.cvs.size() > kMaxCvsPerPage) return bad("too many block hashes");
  if (r.data.size() > kBlockSize) return bad("block larger than 64 KiB");
  if (r.op == SyncOp::symlink &&
      (r.target.empty() || r.target.size() >= PATH_MAX || r.target.find('\0') != std::string::npos))
    return bad("bad symlink target");
  return {};
}

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void str(std::string_view s, int lenBytes) {
    be(s.size(), lenBytes);
    raw(s.data(), s.size());
  }
  core::Bytes take() { return std::move(out_); }

 private:
  core::Bytes out_;
};

class Reader {
 public:
  explicit Reader(core::ByteView in) : in_(in) {}
  [[nodiscard]] bool need(std::size_t n) const { return in_.size() - pos_ >= n; }
  core::Error truncated() const { return bad("truncated at byte " + std::to_string(pos_)); }
  std::uint64_t be(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  std::string str(std::size_t n) {
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  void raw(void* p, std::size_t n) {
    if (n == 0) return;  // p may be null (an empty block)
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  [[nodiscard]] std::size_t pos() const { return pos_; }
  [[nodiscard]] bool atEnd() const { return pos_ == in_.size(); }

 private:
  core::ByteView in_;
  std::size_t pos_ = 0;
};

// Reads a length of `lenBytes` bytes (at most `max`) and that many bytes.
core::Result<std::string> readStr(Reader& r, int lenBytes, std::size_t max, const char* what) {
  if (!r.need(static_cast<std::size_t>(lenBytes))) return r.truncated();
  const std::size_t at = r.pos();
  const std::uint64_t n = r.be(lenBytes);
  if (n > max) return bad(std::string(what) + " too long at byte " + std::to_string(at));
  if (!r.need(n)) return r.truncated();
  return r.str(n);
}

core::Result<std::uint8_t> readHeader(Reader& r) {
  if (!r.need(2)) return r.truncated();
  if (r.be(1) != kSyncVersion) return bad("unknown version");
  const auto op = static_cast<std::uint8_t>(r.be(1));
  if (!validOp(op)) return bad("unknown op " + std::to_string(op));
  return op;
}

core::Result<TreeEntry> readEntry(Reader& r) {
  TreeEntry e;
  SASHI_TRY_ASSIGN(name, readStr(r, 1, NAME_MAX, "name"));
  e.name = std::move(name);
  if (!r.need(1 + 2 + 8 + 32)) return r.truncated();
  e.kind = static_cast<EntryKind>(r.be(1));
  e.perm = static_cast<std::uint16_t>(r.be(2));
  e.size = r.be(8);
  r.raw(e.hash.data(), e.hash.size());
  return e;
}

SyncRequest request(SyncOp op, std::string_view path, std::uint64_t index = 0, std::string_view after = {}) {
  SyncRequest r;
  r.op = op;
  r.path = path;
  r.index = index;
  r.after = after;
  return r;
}

}  // namespace

core::Result<core::Bytes> encodeSyncRequest(const SyncRequest& r) {
  SASHI_TRY(checkRequest(r));
  Writer w;
  w.u8(kSyncVersion);
  w.u8(static_cast<std::uint8_t>(r.op));
  w.str(r.path, 2);
  if (r.op == SyncOp::listing) w.str(r.after, 1);
  if (r.op == SyncOp::blockHashes || r.op == SyncOp::block) w.be(r.index, 8);
  return w.take();
}

core::Result<SyncRequest> decodeSyncRequest(core::ByteView in) {
  Reader r(in);
  SyncRequest q;
  SASHI_TRY_ASSIGN(op, readHeader(r));
  q.op = static_cast<SyncOp>(op);
  SASHI_TRY_ASSIGN(path, readStr(r, 2, kMaxSyncPath, "path"));
  q.path = std::move(path);
  if (q.op == SyncOp::listing) {
    SASHI_TRY_ASSIGN(after, readStr(r, 1, NAME_MAX, "name"));
    q.after = std::move(after);
  }
  if (q.op == SyncOp::blockHashes || q.op == SyncOp::block) {
    if (!r.need(8)) return r.truncated();
    q.index = r.be(8);
  }
  if (!r.atEnd()) return bad("trailing bytes at byte " + std::to_string(r.pos()));
  SASHI_TRY(checkRequest(q));
  return q;
}

core::Result<core::Bytes> encodeSyncResponse(const SyncResponse& r) {
  SASHI_TRY(checkResponse(r));
  Writer w;
  w.u8(kSyncVersion);
  w.u8(static_cast<std::uint8_t>(r.op));
  w.u8(r.error.empty() ? 0 : 1);
  if (!r.error.empty()) {
    w.str(r.error, 2);
    return w.take();
  }
  switch (r.op) {
    case SyncOp::listing:
      w.be(r.entries.size(), 2);
      for (const auto& e : r.entries) {
        w.str(e.name, 1);
        w.u8(static_cast<std::uint8_t>(e.kind));
        w.be(e.perm, 2);
        w.be(e.size, 8);
        w.raw(e.hash.data(), e.hash.size());
      }
      break;
    case SyncOp::blockHashes:
      w.be(r.cvs.size(), 4);
      for (const auto& cv : r.cvs) w.raw(cv.data(), cv.size());
      break;
    case SyncOp::block:
      w.be(r.data.size(), 4);
      w.raw(r.data.data(), r.data.size());
      break;
    case SyncOp::symlink:
      w.str(r.target, 2);
      break;
  }
  return w.take();
}

core::Result<SyncResponse> decodeSyncResponse(core::ByteView in) {
  Reader r(in);
  SyncResponse s;
  SASHI_TRY_ASSIGN(op, readHeader(r));
  s.op = static_cast<SyncOp>(op);
  if (!r.need(1)) return r.truncated();
  const std::uint64_t status = r.be(1);
  if (status > 1) return bad("unknown status " + std::to_string(status));
  if (status == 1) {
    SASHI_TRY_ASSIGN(msg, readStr(r, 2, kMaxSyncError, "error message"));
    if (msg.empty()) return bad("empty error message");
    s.error = std::move(msg);
  } else {
    switch (s.op) {
      case SyncOp::listing: {
        if (!r.need(2)) return r.truncated();
        const std::uint64_t n = r.be(2);
        if (n > kMaxEntriesPerPage) return bad("too many entries: " + std::to_string(n));
        for (std::uint64_t i = 0; i < n; ++i) {
          SASHI_TRY_ASSIGN(e, readEntry(r));
          s.entries.push_back(std::move(e));
        }
        break;
      }
      case SyncOp::blockHashes: {
        if (!r.need(4)) return r.truncated();
        const std::uint64_t n = r.be(4);
        if (n > kMaxCvsPerPage) return bad("too many block hashes: " + std::to_string(n));
        if (!r.need(n * 32)) return r.truncated();
        s.cvs.resize(n);
        for (auto& cv : s.cvs) r.raw(cv.data(), cv.size());
        break;
      }
      case SyncOp::block: {
        if (!r.need(4)) return r.truncated();
        const std::uint64_t n = r.be(4);
        if (n > kBlockSize) return bad("block larger than 64 KiB: " + std::to_string(n));
        if (!r.need(n)) return r.truncated();
        s.data.resize(n);
        r.raw(s.data.data(), n);
        break;
      }
      case SyncOp::symlink: {
        SASHI_TRY_ASSIGN(target, readStr(r, 2, PATH_MAX - 1, "symlink target"));
        s.target = std::move(target);
        break;
      }
    }
  }
  if (!r.atEnd()) return bad("trailing bytes at byte " + std::to_string(r.pos()));
  SASHI_TRY(checkResponse(s));
  return s;
}

SyncResponse answerSyncRequest(SyncSource& source, const SyncRequest& r) {
  SyncResponse s;
  s.op = r.op;
  auto fail = [&](const core::Error& e) {
    s = SyncResponse{};
    s.op = r.op;
    s.error = e.message.empty() ? "failed" : e.message.substr(0, kMaxSyncError);
    return s;
  };
  switch (r.op) {
    case SyncOp::listing: {
      auto v = source.listing(r.path, r.after);
      if (!v) return fail(v.error());
      s.entries = std::move(*v);
      break;
    }
    case SyncOp::blockHashes: {
      auto v = source.blockHashes(r.path, r.index);
      if (!v) return fail(v.error());
      s.cvs = std::move(*v);
      break;
    }
    case SyncOp::block: {
      auto v = source.block(r.path, r.index);
      if (!v) return fail(v.error());
      s.data = std::move(*v);
      break;
    }
    case SyncOp::symlink: {
      auto v = source.symlinkTarget(r.path);
      if (!v) return fail(v.error());
      s.target = std::move(*v);
      break;
    }
  }
  if (auto st = checkResponse(s); !st) return fail(st.error());
  return s;
}

core::Result<SyncResponse> MessageSyncSource::ask(SyncRequest r) {
  SASHI_TRY_ASSIGN(bytes, encodeSyncRequest(r));
  SASHI_TRY_ASSIGN(answer, exchange_(bytes));
  SASHI_TRY_ASSIGN(s, decodeSyncResponse(answer));
  if (s.op != r.op) return bad("the answer is to another request");
  if (!s.error.empty()) return core::Error("peer: " + s.error);
  return s;
}

core::Result<std::vector<TreeEntry>> MessageSyncSource::listing(std::string_view path,
                                                                std::string_view after) {
  SASHI_TRY_ASSIGN(s, ask(request(SyncOp::listing, path, 0, after)));
  return std::move(s.entries);
}

core::Result<std::vector<crypto::Hash256>> MessageSyncSource::blockHashes(std::string_view path,
                                                                          std::uint64_t first) {
  SASHI_TRY_ASSIGN(s, ask(request(SyncOp::blockHashes, path, first)));
  return std::move(s.cvs);
}

core::Result<core::Bytes> MessageSyncSource::block(std::string_view path, std::uint64_t index) {
  SASHI_TRY_ASSIGN(s, ask(request(SyncOp::block, path, index)));
  return std::move(s.data);
}

core::Result<std::string> MessageSyncSource::symlinkTarget(std::string_view path) {
  SASHI_TRY_ASSIGN(s, ask(request(SyncOp::symlink, path)));
  return std::move(s.target);
}

}  // namespace sashimono::statefs
