// libFuzzer target: arbitrary bytes as a board's answer to `ledger` (board::parseLedger, then
// board::verifyLedger against the hash it claims) and as a binary ledger header
// (ledger::parseHeader). A board is not trusted: any crash or sanitizer report is a bug; a parsed
// transaction's hash must be that of its blob, a header must re-serialize to its bytes, and a
// ledger that verifies must hash to the claimed hash with a transaction tree equal to its header's.
#include <cstdint>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "FuzzFail.h"
#include "sashimono/board/Responses.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/LedgerHeader.h"
#include "sashimono/ledger/ShaMap.h"

using namespace sashimono;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const core::ByteView in(data, size);

  auto header = ledger::parseHeader(in);
  if (header.ok() != (size == ledger::kLedgerHeaderSize))
    fuzz::fail("parseHeader: accepts iff 118 bytes", in, "");
  if (header.ok() && ledger::serializeHeader(*header) != core::Bytes(in.begin(), in.end()))
    fuzz::fail("parseHeader: does not round-trip", in, "");

  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(reinterpret_cast<const char*>(data), size);
  if (d.HasParseError()) return 0;
  auto l = board::parseLedger(d);
  if (!l.ok()) return 0;
  for (const auto& t : l->txs) {
    if (ledger::transactionHash(t.blob) != t.hash)
      fuzz::fail("parseLedger: tx hash is not its blob's", in, "");
  }
  auto st = board::verifyLedger(*l, l->claimedHash);
  if (st.ok()) {
    if (ledger::ledgerHash(l->header) != l->claimedHash)
      fuzz::fail("verifyLedger: passed a wrong header", in, "");
    std::vector<ledger::LedgerTxData> v;
    for (const auto& t : l->txs) v.push_back({t.blob, t.meta});
    auto root = ledger::transactionTreeRoot(v);
    if (!root.ok() || *root != l->header.txHash) fuzz::fail("verifyLedger: passed a wrong tree", in, "");
  } else {
    const std::string& code = st.error().code;
    if (code != "headerMismatch" && code != "txTreeMismatch" &&
        board::rpcErrorCode(st.error()) != board::RpcErrorCode::badResponse)
      fuzz::fail("verifyLedger: unexpected error code", in, code + ": " + st.error().message);
  }
  return 0;
}
