#include "sashimono/ledger/LedgerHeader.h"

#include <array>
#include <cstring>
#include <string>

#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {

namespace {
std::uint8_t* put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) *p++ = static_cast<std::uint8_t>(v >> (8 * i));
  return p;
}
std::uint8_t* put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) *p++ = static_cast<std::uint8_t>(v >> (8 * i));
  return p;
}
std::uint8_t* putHash(std::uint8_t* p, const crypto::Hash256& h) {
  std::memcpy(p, h.data(), h.size());
  return p + h.size();
}
void write(std::uint8_t* p, const LedgerHeader& h) {
  p = put32(p, h.seq);
  p = put64(p, h.totalDrops);
  p = putHash(p, h.parentHash);
  p = putHash(p, h.txHash);
  p = putHash(p, h.accountHash);
  p = put32(p, h.parentCloseTime);
  p = put32(p, h.closeTime);
  *p++ = h.closeTimeResolution;
  *p = h.closeFlags;
}

std::uint32_t get32(const std::uint8_t*& p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | *p++;
  return v;
}
std::uint64_t get64(const std::uint8_t*& p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | *p++;
  return v;
}
crypto::Hash256 getHash(const std::uint8_t*& p) {
  crypto::Hash256 h{};
  std::memcpy(h.data(), p, h.size());
  p += h.size();
  return h;
}
}  // namespace

crypto::Hash256 ledgerHash(const LedgerHeader& h) {
  std::array<std::uint8_t, kPrefixLedger.size() + kLedgerHeaderSize> buf{};
  std::memcpy(buf.data(), kPrefixLedger.data(), kPrefixLedger.size());
  write(buf.data() + kPrefixLedger.size(), h);
  return crypto::sha512Half(buf);
}

core::Bytes serializeHeader(const LedgerHeader& h) {
  core::Bytes out(kLedgerHeaderSize);
  write(out.data(), h);
  return out;
}

core::Result<LedgerHeader> parseHeader(core::ByteView data) {
  if (data.size() != kLedgerHeaderSize)
    return core::Error::withCode("badLedgerHeader", "ledger header is " + std::to_string(data.size()) +
                                                        " bytes, expected " +
                                                        std::to_string(kLedgerHeaderSize));
  const std::uint8_t* p = data.data();
  LedgerHeader h;
  h.seq = get32(p);
  h.totalDrops = get64(p);
  h.parentHash = getHash(p);
  h.txHash = getHash(p);
  h.accountHash = getHash(p);
  h.parentCloseTime = get32(p);
  h.closeTime = get32(p);
  h.closeTimeResolution = *p++;
  h.closeFlags = *p;
  return h;
}

}  // namespace sashimono::ledger
