// libFuzzer target: arbitrary bytes as a board's stream message, through the client's parsing of
// it (parseStreamEvent, isResponse) and the local re-encoding of a streamed transaction
// (localTransaction). A board is not trusted: any crash or sanitizer report is a bug, and a
// transaction re-encoded locally must hash to the id the message claims.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/board/Stream.h"
#include "sashimono/ledger/Codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(reinterpret_cast<const char*>(data), size);
  if (d.HasParseError()) return 0;
  (void)sashimono::board::isResponse(d);
  auto ev = sashimono::board::parseStreamEvent(d);
  if (!ev.ok()) return 0;
  if (auto local = sashimono::board::localTransaction(d, *ev)) {
    if (sashimono::ledger::transactionHash(local->blob) != ev->hash) std::abort();
    if (local->ledgerIndex != ev->ledgerIndex) std::abort();
  }
  return 0;
}
