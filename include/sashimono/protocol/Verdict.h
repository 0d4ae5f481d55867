#pragma once
// What the host makes of one validated transaction (docs/PROTOCOL.md §8): a request it should
// serve, a request it must refuse (with a refund and a reason), or something to ignore.
//
//   auto in = protocol::incomingFrom(decodedTx, outcome);   // checks the signature itself
//   auto verdict = protocol::classify(in, hostKey, policy);
//
// classify() checks everything that does not depend on the lease book: the transaction kind,
// destination, signature and key ↔ account, the memo, payment form (XRP, not partial), the
// envelope, the payload schema, the reply key, the image and the config bounds. Price,
// capacity and lease ownership are the book's (lease::Book). Pure apart from unsealing;
// thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::protocol {

// Payment flag: the Amount is a maximum and less may have been delivered.
inline constexpr std::uint32_t kTfPartialPayment = 0x00020000;

// The fields of a transaction that classify() looks at, independent of how it arrived.
struct IncomingTransaction {
  crypto::Hash256 hash{};
  std::uint16_t type = 0;  // ledger::txtype
  crypto::AccountId account{};
  std::optional<crypto::AccountId> destination;
  core::Bytes signingPubKey;    // empty when multi-signed
  bool signatureValid = false;  // signature verifies and the key's account id is `account`
  std::uint32_t flags = 0;
  bool succeeded = false;  // validated with tesSUCCESS
  // What reached the destination: the metadata's delivered_amount; absent if unknown.
  std::optional<ledger::Amount> delivered;
  std::vector<Memo> memos;  // MemoType / MemoFormat as raw bytes → strings; absent → empty
};

// From the transaction's metadata, which the codec's typed decode does not cover.
struct TxOutcome {
  bool succeeded = false;                   // TransactionResult == tesSUCCESS
  std::optional<ledger::Amount> delivered;  // meta.delivered_amount
};

// Copies the fields and runs ledger::verifySignature (signature and key → Account).
// When outcome.delivered is absent and the payment is not partial, Amount is taken as delivered.
IncomingTransaction incomingFrom(const ledger::DecodedTx& tx, const TxOutcome& outcome);

// The host's offer as far as classify() is concerned.
struct HostPolicy {
  std::vector<std::string> allowedImages;  // exact image names
  std::uint32_t minRoundtimeMs = 100;
  std::uint32_t maxRoundtimeMs = 60'000;
  std::size_t maxEnvVars = kMaxEnvVars;
};

using RequestPayload = std::variant<AcquireRequest, ExtendRequest, TerminateRequest, ClusterRequest>;

struct Accepted {
  crypto::Hash256 id{};  // the request's transaction hash (the lease id for an acquire)
  crypto::AccountId from{};
  Drops amount = 0;  // delivered, in drops
  // Acquire: the key replies are sealed to (replyKey, else the signer's ed25519 key); always
  // set. Others: the request's replyKey if it named one (else the lease's key applies).
  std::optional<Ed25519Key> replyKey;
  RequestPayload request;
  [[nodiscard]] MessageType type() const;
};

struct Refused {
  crypto::Hash256 id{};
  crypto::AccountId from{};
  MessageType replyType = MessageType::error;  // acquire.error, …, or sashimono.error
  Reason reason = Reason::badPayload;
  std::string detail;     // sanitized, ≤ kMaxDetailBytes
  ledger::Amount refund;  // everything delivered, in its own currency
};

struct Ignored {
  std::string why;  // for the log
};

using Verdict = std::variant<Ignored, Refused, Accepted>;

// hostKey must be the host account's ed25519 key pair.
Verdict classify(const IncomingTransaction& tx, const crypto::KeyPair& hostKey, const HostPolicy& policy);
// incomingFrom + classify.
Verdict classify(const ledger::DecodedTx& tx, const TxOutcome& outcome, const crypto::KeyPair& hostKey,
                 const HostPolicy& policy);

}  // namespace sashimono::protocol
