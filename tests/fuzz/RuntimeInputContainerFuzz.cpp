// libFuzzer target: runtime::parseInputContainer on arbitrary bytes.
// Input layout: byte 0 selects the protocol (even: JSON, odd: BSON), the rest is the container.
// Invariants: no crash/UB; every refusal carries the code bad_msg_format; an accepted container
// has nonce ≥ 1 and both numbers ≤ INT64_MAX, and a container rebuilt from what was parsed (in the
// client's shape) parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "FuzzFail.h"
#include "sashimono/runtime/InputContainer.h"

using namespace sashimono;
using namespace sashimono::runtime;
using sashimono::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Protocol p = (data[0] & 1) != 0 ? Protocol::Bson : Protocol::Json;
  core::ByteView in(data + 1, size - 1);
  auto c = parseInputContainer(p, in);
  if (!c.ok()) {
    if (c.error().code != kBadMsgFormat) fail("error without bad_msg_format", in, c.error().message);
    return 0;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (c->nonce < 1 || c->nonce > kMax || c->maxLedgerSeqNo > kMax) fail("number out of range", in, "");
  Value rebuilt;
  if (p == Protocol::Json)
    rebuilt.set("input", std::string(c->input.begin(), c->input.end()));
  else
    rebuilt.set("input", Value::binary(c->input));
  rebuilt.set("nonce", Value::uint(c->nonce));
  rebuilt.set("max_ledger_seq_no", Value::uint(c->maxLedgerSeqNo));
  std::string bytes = render(p, rebuilt);
  auto again = parseInputContainer(p, core::asBytes(bytes));
  if (!again.ok()) fail("rebuilt container does not parse", in, again.error().message);
  if (!(*again == *c)) fail("rebuilt container differs", in, bytes);
  return 0;
}
