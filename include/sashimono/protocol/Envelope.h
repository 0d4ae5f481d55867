#pragma once
// Memos on the wire (docs/PROTOCOL.md §2–§3): building them from typed messages and opening
// them back, with sealing.
//
// A memo's MemoType is the message type name and MemoFormat one of kFormatSealed /
// kFormatJson (both as UTF-8; the ledger JSON carries them hex-encoded, which the codec does).
// Sealed MemoData is the envelope: one version byte (kEnvelopeVersion) followed by a libsodium
// sealed box (crypto::seal) of the JSON payload, to the recipient's ed25519 key. Plain
// MemoData is the JSON payload itself.
//
// Requests and *.ok replies are sealed; errors, expiry notices and announcements are plain.
// Pure functions apart from the randomness of sealing; thread-safe.
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::protocol {

struct Memo {
  std::string type;    // e.g. "sashimono.acquire"
  std::string format;  // kFormatSealed or kFormatJson
  core::Bytes data;
  bool operator==(const Memo&) const = default;
};

// The memo type a message is sent with. Requests, ok replies, notices and announcements have
// one type each; an ErrorReply needs the request type it answers (errorReplyFor).
MessageType defaultTypeOf(const Message& m);

// The ledger's forms of a memo. memoToJson gives the Memos array entry of a transaction JSON,
// {"Memo": {"MemoType": hex, "MemoFormat": hex, "MemoData": hex}} (upper-case hex), allocated
// with `alloc`. memoFromLedger copies a decoded memo (absent fields become empty); memoToLedger
// is the memo for ledger::Payment (all three fields present, as memoToJson writes them).
rapidjson::Value memoToJson(const Memo& memo, rapidjson::Document::AllocatorType& alloc);
Memo memoFromLedger(const ledger::Memo& memo);
ledger::Memo memoToLedger(const Memo& memo);

// Renders `message` as `type` and wraps it: sealed to `sealTo` if the type is sealed (sealTo
// required), plain otherwise. Errors: the message does not belong to the type, a sealed type
// without a key, a bad key, the payload exceeding payloadLimit(type).
core::Result<Memo> buildMemo(MessageType type, const Message& message,
                             const std::optional<Ed25519Key>& sealTo);

// Developer side: a request memo sealed to the host's key ("ED…" from its announcement).
core::Result<Memo> buildRequest(const Message& request, const Ed25519Key& hostKey);

// The JSON text inside a memo: checks the format for the type, the data size, the envelope
// version (unsupported_version) and unseals with `recipient` (sealed types; nullptr is an
// error). Errors carry a Reason in Error::code.
core::Result<std::string> openMemoText(MessageType type, const Memo& memo, const crypto::KeyPair* recipient);

// openMemoText + parsePayload. For a tenant reading a reply (its own key pair) and for tests;
// the host reads requests through classify() (Verdict.h).
core::Result<Message> openMemo(const Memo& memo, const crypto::KeyPair* recipient);

}  // namespace sashimono::protocol
