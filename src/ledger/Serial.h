#pragma once
// Internal to ledger: the byte-level pieces of the codec shared by Codec.cpp (JSON) and
// DecodedTx.cpp (fast path): a bounds-checked reader, field headers, VL lengths, and the
// canonical-form checks for values. Nothing here allocates except error messages.
#include <cstdint>
#include <string>
#include <utility>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/ledger/Definitions.h"

namespace sashimono::ledger::detail {

inline constexpr std::size_t kMaxVlLength = 918744;
inline constexpr int kObjectEndType = 14;
inline constexpr int kArrayEndType = 15;
inline constexpr std::uint8_t kObjectEndMarker = 0xE1;
inline constexpr std::uint8_t kArrayEndMarker = 0xF1;

core::Error malformed(std::string message);  // Error with code "temMALFORMED"

class Reader {
 public:
  explicit Reader(core::ByteView data) : data_(data) {}
  [[nodiscard]] std::size_t pos() const { return pos_; }
  [[nodiscard]] bool atEnd() const { return pos_ == data_.size(); }
  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] std::uint8_t peek() const { return data_[pos_]; }
  [[nodiscard]] core::ByteView data() const { return data_; }

  // Takes n bytes or fails with "truncated <what> at offset N".
  core::Result<core::ByteView> take(std::size_t n, const char* what);
  // Reads a field header, rejecting non-minimal encodings; fails at end of input.
  core::Result<std::pair<int, int>> fieldId();
  // Reads a 1–3 byte VL length prefix and checks that many bytes remain.
  core::Result<std::size_t> vlLength(const char* what);

 private:
  core::ByteView data_;
  std::size_t pos_ = 0;
};

void writeFieldId(core::Bytes& out, int typeCode, int fieldCode);
void writeVlLength(core::Bytes& out, std::size_t length);  // length <= kMaxVlLength
void writeU64(core::Bytes& out, std::uint64_t v);
inline std::uint64_t readU64(core::ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}
inline std::uint32_t readU32(core::ByteView b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

// Reads the next field header of an object and checks canonical order against `prev`
// (updated). Inside an inner object (`inner`), returns nullptr at the object end marker.
// Fails on end markers out of place, unknown fields and unsupported types.
core::Result<const FieldDef*> readFieldDef(Reader& r, std::pair<int, int>& prev, bool inner);
// Validates one value of field `f` (and everything nested, up to kMaxDepth) and, when
// `out` is not null, renders it as JSON with `alloc`.
core::Status readValue(Reader& r, const FieldDef& f, int depth, rapidjson::Value* out,
                       rapidjson::Document::AllocatorType* alloc);

// Amounts. The wire value is 8 bytes (XRP) or 48 bytes (issued: value, currency, issuer).
inline constexpr std::uint64_t kMaxDrops = 100000000000000000ULL;   // 10^17
inline constexpr std::uint64_t kMinMantissa = 1000000000000000ULL;  // 10^15
inline constexpr std::uint64_t kMaxMantissa = 9999999999999999ULL;
inline constexpr int kMinExponent = -96;
inline constexpr int kMaxExponent = 80;
// Reads and checks one amount (canonical XRP or issued value, a non-XRP currency); MPT amounts
// are rejected as unsupported.
core::Result<core::ByteView> readAmount(Reader& r, const char* field);
// Issued value text (plain decimal, as ripple-binary-codec prints it) from the 8 value bytes.
std::string issuedValueText(core::ByteView value8);
// Parses decimal text ("-1.5", "12e3") into the 8 value bytes.
core::Result<std::uint64_t> issuedValueFromText(std::string_view text);
// Currency: 3-character ISO-style code or 40 hex digits. "XRP" and all-zero are rejected.
core::Result<std::array<std::uint8_t, 20>> currencyFromText(std::string_view text);
std::string currencyText(core::ByteView currency20);

}  // namespace sashimono::ledger::detail
