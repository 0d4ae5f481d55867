#pragma once
// The peer protocol's wire primitives (PeerMessage.h, docs/CLUSTER.md "Encoding"), shared by the
// message codecs (PeerMessage.cpp, PeerLedgerMessage.cpp): a Writer and a Reader with one
// interface, so that one `fields` function per body both encodes and decodes it, and the field
// checks both decoding and checkPeerMessage use. Internal to the runtime module.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime::peercodec {

inline constexpr std::size_t kKeyBytes = 33;
inline constexpr std::size_t kHashBytes = 32;
inline constexpr std::size_t kSigBytes = 64;
inline constexpr std::uint8_t kEd25519Prefix = 0xED;

inline core::Error bad(const char* msg, const std::string& what) {
  return core::Error(std::string(msg) + ": " + what);
}

inline std::string overMax(const std::string& field, const char* what, std::size_t n, std::size_t max) {
  return field + ": " + what + " " + std::to_string(n) + " over the maximum " + std::to_string(max);
}

// The writer and the reader share one interface, so that one function per body (fields(),
// below) both encodes and decodes it: the two cannot disagree. Field names are for errors.
class Writer {
 public:
  static constexpr bool kWrites = true;

  void be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void raw(core::ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void u8(std::uint8_t v, const char* /*field*/) { be(v, 1); }
  void u32(std::uint32_t v, const char* /*field*/) { be(v, 4); }
  void u64(std::uint64_t v, const char* /*field*/) { be(v, 8); }
  template <std::size_t N>
  void fixed(const std::array<std::uint8_t, N>& a, const char* /*field*/) {
    raw(a);
  }
  void bytes(core::ByteView b, const char* /*field*/, std::size_t /*max*/) {
    be(b.size(), 4);
    raw(b);
  }
  void bytes(std::string_view s, const char* field, std::size_t max) { bytes(core::asBytes(s), field, max); }
  void count(std::size_t n, const char* /*field*/, std::size_t /*max*/, std::size_t /*itemBytes*/) {
    be(n, 4);
  }
  void scope(const char* /*s*/, std::size_t /*index*/ = 0) {}
  [[nodiscard]] const core::Bytes& view() const { return out_; }
  core::Bytes take() { return std::move(out_); }

 private:
  core::Bytes out_;
};

// Reads fields in order. The first failure sticks: later reads leave their field alone and do
// nothing, so a body is read straight through and checked once at the end.
class Reader {
 public:
  static constexpr bool kWrites = false;
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  Reader(core::ByteView in, std::size_t pos) : in_(in), pos_(pos) {}
  [[nodiscard]] bool ok() const { return error_.empty(); }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] std::size_t pos() const { return pos_; }
  [[nodiscard]] bool atEnd() const { return pos_ == in_.size(); }
  void fail(std::string what) {
    if (ok()) error_ = std::move(what);
  }
  // Fields read from now on are named "<scope>.<field>" ("<scope>[index].<field>"); nullptr: none.
  void scope(const char* s, std::size_t index = kNoIndex) {
    scope_ = s;
    index_ = index;
  }

  void u8(std::uint8_t& v, const char* field) { v = static_cast<std::uint8_t>(be(1, field)); }
  void u32(std::uint32_t& v, const char* field) { v = static_cast<std::uint32_t>(be(4, field)); }
  void u64(std::uint64_t& v, const char* field) { v = be(8, field); }
  template <std::size_t N>
  void fixed(std::array<std::uint8_t, N>& a, const char* field) {
    if (!take(N, field)) return;
    std::memcpy(a.data(), in_.data() + pos_, N);
    pos_ += N;
  }
  // bytes(max)
  template <typename Buffer>
  void bytes(Buffer& b, const char* field, std::size_t max) {
    std::size_t n = 0;
    bounded(n, field, "length", max);
    if (!take(n, field)) return;
    const auto* p = in_.data() + pos_;
    b.assign(p, p + n);
    pos_ += n;
  }
  // The count of a list(max) whose items take itemBytes each (or more): refused early when the
  // rest of the message cannot hold them, so that nothing is allocated for a count that lies.
  void count(std::size_t& n, const char* field, std::size_t max, std::size_t itemBytes) {
    bounded(n, field, "count", max);
    if (ok() && (in_.size() - pos_) / itemBytes < n) fail(truncated(field));
    if (!ok()) n = 0;
  }

 private:
  std::uint64_t be(std::size_t n, const char* field) {
    if (!take(n, field)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  [[nodiscard]] std::string name(const char* field) const {
    if (scope_ == nullptr) return field;
    std::string s = scope_;
    if (index_ != kNoIndex) s += "[" + std::to_string(index_) + "]";
    return s + "." + field;
  }
  [[nodiscard]] std::string truncated(const char* field) const {
    return "truncated at " + name(field) + " (byte " + std::to_string(pos_) + ")";
  }
  bool take(std::size_t n, const char* field) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail(truncated(field));
      return false;
    }
    return true;
  }
  void bounded(std::size_t& n, const char* field, const char* what, std::size_t max) {
    const std::uint64_t v = be(4, field);
    if (v > max) fail(overMax(name(field), what, v, max));
    n = ok() ? static_cast<std::size_t>(v) : 0;
  }

  core::ByteView in_;
  std::size_t pos_;
  std::string error_;
  const char* scope_ = nullptr;
  std::size_t index_ = kNoIndex;
};

inline core::Status checkKey(const char* msg, const PubKey& k, const std::string& field) {
  if (k[0] == kEd25519Prefix) return {};
  return bad(msg, field + " is not an ed25519 key (first byte " +
                      core::toHexLower(core::ByteView(k).first(1)) + ", not ed)");
}

inline core::Status checkLength(const char* msg, const std::string& field, const char* what, std::size_t n,
                                std::size_t max) {
  if (n <= max) return {};
  return bad(msg, overMax(field, what, n, max));
}

// --- the bodies, for Writer (m const) and Reader ---

template <typename IO, typename T>
using Ref = std::conditional_t<IO::kWrites, const T&, T&>;

// list<fixed-size item>(max)
template <typename IO, typename Item>
void list(IO& io, Ref<IO, std::vector<Item>> v, const char* field, std::size_t max) {
  std::size_t n = v.size();
  io.count(n, field, max, std::tuple_size_v<Item>);
  if constexpr (!IO::kWrites) v.resize(n);
  for (std::size_t i = 0; i < n; ++i) io.fixed(v[i], field);
}

// The ledger sync bodies (PeerLedgerMessage.cpp), for PeerMessage.cpp's dispatch.
void fields(Writer& io, const LedgerRequest& m);
void fields(Reader& io, LedgerRequest& m);
void fields(Writer& io, const LedgerMessage& m);
void fields(Reader& io, LedgerMessage& m);
[[nodiscard]] core::Status checkBody(const LedgerRequest& m);
[[nodiscard]] core::Status checkBody(const LedgerMessage& m);

}  // namespace sashimono::runtime::peercodec
