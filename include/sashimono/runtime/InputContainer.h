#pragma once
// The input container of a `contract_input` message (sheet 2.4): the exact bytes a user signed,
// holding the input and its nonce and max ledger. The signature is checked over these bytes as
// received (never a re-serialisation); this only parses them.
//
// JSON: an object with "input" (a string: the input is its UTF-8 bytes), "nonce" (an integer
// ≥ 1) and "max_ledger_seq_no" (an integer ≥ 0). BSON: a document with "input" (binary; a string
// is accepted as its UTF-8 bytes), "nonce" (int32/int64 ≥ 1) and "max_ledger_seq_no" (int32/int64
// ≥ 0). Numbers must be integers (not doubles, not strings) and at most INT64_MAX. Other keys are
// ignored; a repeated known key is an error (two readers could pick different copies of a signed
// value). Every error carries code "bad_msg_format" and names the field.
// Pure function, thread-safe.
#include <cstdint>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Codec.h"

namespace sashimono::runtime {

struct InputContainer {
  core::Bytes input;
  std::uint64_t nonce = 0;
  std::uint64_t maxLedgerSeqNo = 0;
  friend bool operator==(const InputContainer&, const InputContainer&) = default;
};

[[nodiscard]] core::Result<InputContainer> parseInputContainer(Protocol p, core::ByteView container,
                                                               const ParseLimits& limits = {});

}  // namespace sashimono::runtime
