// libFuzzer target: the XRPL binary decoder on arbitrary bytes.
// Invariants: no crash/UB; a blob decode() accepts re-encodes to the same bytes (canonical);
// decodeTransaction() never accepts what decode() rejects and agrees on the hash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"

using namespace sashimono;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  core::ByteView blob(data, size);
  auto doc = ledger::decode(blob);
  auto fast = ledger::decodeTransaction(blob);
  if (!doc.ok()) {
    if (fast.ok()) {
      std::fprintf(stderr, "decodeTransaction accepted a blob decode rejects: %s\n",
                   doc.error().message.c_str());
      std::abort();
    }
    return 0;
  }
  auto again = ledger::encode(*doc);
  if (!again.ok()) {
    std::fprintf(stderr, "decoded JSON does not re-encode: %s\n", again.error().message.c_str());
    std::abort();
  }
  if (*again != core::Bytes(blob.begin(), blob.end())) {
    std::fprintf(stderr, "re-encoding differs from the input (non-canonical accepted)\n");
    std::abort();
  }
  if (fast.ok()) {
    if (fast->hash != ledger::transactionHash(blob)) std::abort();
    auto signing = ledger::encodeForSigning(*doc);
    if (!signing.ok() || *signing != fast->signingData) {
      std::fprintf(stderr, "fast-path signing data differs from encodeForSigning\n");
      std::abort();
    }
    (void)ledger::verifySignature(*fast);
    (void)ledger::verifySignature(*doc);
  }
  return 0;
}
