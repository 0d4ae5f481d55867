#pragma once
// Hot Pocket's user protocol messages (fact sheet section 2) as plain structs: parse what a
// client sent, render what the server sends. No sockets, no state: the session logic
// (UserServer) and the tests use these. The handshake is always JSON; afterwards a session
// uses the protocol it chose (JSON: binary fields as lowercase hex; BSON: binary subtype 0).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/Value.h"

namespace sashimono::runtime {

inline constexpr const char* kHpVersion = "0.6.4";  // clients require "0.6."

// "ed" + 64 lowercase hex ⇄ 33 bytes (0xED ‖ key).
std::string hexKey(const PubKey& k);
core::Result<PubKey> parseHexKey(std::string_view text);
core::Result<PubKey> keyFromBytes(core::ByteView b);

// ---- handshake (JSON only) ----
std::string renderUserChallenge(const std::string& contractId, const std::string& contractVersion,
                                const std::string& challenge);
struct ChallengeResponse {
  core::Bytes sig;
  PubKey pubkey{};
  std::optional<std::string> serverChallenge;
  Protocol protocol = Protocol::Json;
};
// Checks shape and types (not the signature). Errors name the field.
core::Result<ChallengeResponse> parseChallengeResponse(std::string_view json);
std::string renderServerChallengeResponse(core::ByteView sig, const PubKey& server,
                                          const std::vector<PubKey>& unl);

// ---- client → server ----
struct ContractInputMsg {
  core::Bytes container;  // the exact signed bytes (JSON: UTF-8 of the string; BSON: the binary)
  core::Bytes sig;
};
struct ReadRequestMsg {
  std::string id;
  core::Bytes content;
};
struct StatMsg {};
struct LclMsg {};
struct SubscriptionMsg {
  std::string channel;  // unl_change | ledger_event | health_event
  bool enabled = false;
};
struct LedgerQueryMsg {
  std::string id;
  std::uint64_t seqNo = 0;
  bool inputs = false;
  bool outputs = false;
};
using ClientMsg =
    std::variant<ContractInputMsg, ReadRequestMsg, StatMsg, LclMsg, SubscriptionMsg, LedgerQueryMsg>;

// Why a client message was refused. Error::code carries clientErrorName(): Hot Pocket's text,
// "bad_msg_format" (unparseable or wrong shape), "invalid_msg_type" (unknown type), "bad_read" /
// "bad_subscription" / "bad_query" (a known type with bad fields; no reply).
enum class ClientError { badMsgFormat, invalidMsgType, badRead, badSubscription, badQuery };
const char* clientErrorName(ClientError e);
// The ClientError an error of parseClientMessage carries (none for any other error).
std::optional<ClientError> clientErrorOf(const core::Error& e);

core::Result<ClientMsg> parseClientMessage(Protocol p, std::string_view bytes);

// ---- server → client (Values; render with runtime::render) ----
Value inputStatusRejected(core::ByteView inputHash, const std::string& reason);
Value inputStatusAccepted(const Hash& inputHash, std::uint64_t ledgerSeqNo, const Hash& ledgerHash);
// outputs: the raw bytes the contract wrote. JSON: each inserted verbatim when it looks like a JSON
// value (sheet 2.5), else as a JSON string; BSON: binary of what a JSON client would see
// (clientVisibleOutput: a quoted JSON string arrives without its quotes), so both protocols get
// the same content and the same output hash verifies in both.
Value contractOutputMsg(Protocol p, std::uint64_t ledgerSeqNo, const Hash& ledgerHash,
                        const std::vector<core::Bytes>& outputs, const Hash& outputHash, Value hashTree,
                        const std::vector<std::pair<PubKey, core::Bytes>>& unlSigs);
Value readResponseMsg(Protocol p, const std::string& replyFor, core::ByteView content);
struct StatInfo {
  std::uint64_t ledgerSeqNo = 0;
  Hash ledgerHash{};
  std::string voteStatus = "synced";
  std::uint64_t roundTimeMs = 0;
  bool contractExecutionEnabled = true;
  bool readRequestsEnabled = true;
  std::vector<PubKey> unl;
  std::vector<std::string> peers;
};
Value statResponseMsg(const StatInfo& s);
Value lclResponseMsg(std::uint64_t seqNo, const Hash& hash);
Value unlChangeMsg(const std::vector<PubKey>& unl);
Value ledgerObject(const LedgerRecord& r);
Value ledgerCreatedEvent(const LedgerRecord& r);
Value voteStatusEvent(const std::string& status);
Value ledgerQueryResultMsg(const std::string& replyFor, const std::optional<std::string>& error,
                           const std::optional<LedgerRecord>& ledger,
                           const std::optional<std::vector<LedgerInput>>& inputs,
                           const std::optional<std::vector<LedgerOutput>>& outputs);

// Sheet 2.5: true when raw bytes are inserted into JSON as they are.
bool looksLikeJsonValue(core::ByteView raw);
// The JSON embedding of one output or read response (verbatim or as a JSON string).
Value jsonEmbedded(core::ByteView raw);

}  // namespace sashimono::runtime
