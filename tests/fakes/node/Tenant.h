#pragma once
// The developer's side in node tests: signed request payments (protocol::buildRequest +
// ledger::sign) and reading the host's replies.
#include <optional>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::node::fakes {

inline crypto::KeyPair newEdKey() {
  return *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
}

inline protocol::Ed25519Key edKeyOf(const crypto::KeyPair& k) {
  protocol::Ed25519Key e{};
  std::copy(k.publicKey().begin() + 1, k.publicKey().end(), e.begin());
  return e;
}

inline protocol::AcquireRequest acquireRequest(const std::string& image = "hotpocket") {
  protocol::AcquireRequest r;
  r.contractId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  r.image = image;
  r.owner = edKeyOf(newEdKey());
  return r;
}

// A signed Payment of `drops` from `from` to `to` carrying `request` sealed to `hostKey`
// (no memo when request is nullopt), with NetworkID when `networkId` is set (a network above 1024).
inline core::Bytes requestPayment(const crypto::KeyPair& from, const std::string& to, std::uint64_t drops,
                                  std::uint32_t sequence, const std::optional<protocol::Message>& request,
                                  const crypto::KeyPair& hostKey, std::uint64_t fee = 12,
                                  std::optional<std::uint32_t> networkId = {}) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  const std::string fromAddr = from.address();
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", rapidjson::Value(fromAddr.c_str(), a), a);
  d.AddMember("Destination", rapidjson::Value(to.c_str(), a), a);
  d.AddMember("Amount", rapidjson::Value(std::to_string(drops).c_str(), a), a);
  d.AddMember("Fee", rapidjson::Value(std::to_string(fee).c_str(), a), a);
  d.AddMember("Sequence", sequence, a);
  d.AddMember("Flags", 0u, a);
  if (networkId) d.AddMember("NetworkID", *networkId, a);
  if (request) {
    auto memo = protocol::buildRequest(*request, edKeyOf(hostKey));
    if (!memo) throw std::runtime_error("buildRequest: " + memo.error().message);
    rapidjson::Value memos(rapidjson::kArrayType);
    memos.PushBack(protocol::memoToJson(*memo, a), a);
    d.AddMember("Memos", memos, a);
  }
  auto blob = ledger::sign(d, a, from);
  if (!blob) throw std::runtime_error("sign: " + blob.error().message);
  return *blob;
}

struct OpenedReply {
  protocol::MessageType type;
  protocol::Message message;
  std::uint64_t drops = 0;
  crypto::AccountId to{};
};

// Opens the one memo of a host payment with the tenant's key (plain memos need none).
inline std::optional<OpenedReply> openReply(const ledger::DecodedTx& tx, const crypto::KeyPair& tenant) {
  if (tx.memos.size() != 1 || !tx.destination) return std::nullopt;
  auto memo = protocol::memoFromLedger(tx.memos[0]);
  auto type = protocol::parseMessageType(memo.type);
  if (!type) return std::nullopt;
  auto m = protocol::openMemo(memo, &tenant);
  if (!m) return std::nullopt;
  return OpenedReply{*type, *m, tx.amount ? tx.amount->drops : 0, *tx.destination};
}

// The request a reply answers (the lease id for expiry notices); nullopt for announcements.
inline std::optional<crypto::Hash256> answered(const protocol::Message& m) {
  return std::visit(
      [](const auto& v) -> std::optional<crypto::Hash256> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, protocol::AcquireOk> || std::is_same_v<T, protocol::ExtendOk> ||
                      std::is_same_v<T, protocol::TerminateOk> || std::is_same_v<T, protocol::ClusterOk> ||
                      std::is_same_v<T, protocol::ErrorReply>)
          return v.request;
        else if constexpr (std::is_same_v<T, protocol::ExpiredNotice>)
          return v.leaseId;
        else
          return std::nullopt;
      },
      m);
}

}  // namespace sashimono::node::fakes
