#pragma once
// Board transactions for client tests: signed Payments carrying sashimono memos.
#include <stdexcept>

#include "sashimono/board/Responses.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Payment.h"
#include "sashimono/protocol/Envelope.h"

namespace sashimono::client::fakes {

inline crypto::KeyPair newKey(crypto::KeyType t = crypto::KeyType::ed25519) {
  return *crypto::KeyPair::fromSeed(crypto::generateSeed(t));
}

inline protocol::Ed25519Key edKey(const crypto::KeyPair& k) {
  protocol::Ed25519Key out{};
  std::copy(k.publicKey().begin() + 1, k.publicKey().end(), out.begin());
  return out;
}

// A validated board transaction: `message` as `type` from `from` to `to`, sealed to `sealTo`.
inline board::BoardTx messageTx(const crypto::KeyPair& from, const crypto::AccountId& to,
                                protocol::MessageType type, const protocol::Message& message,
                                std::optional<protocol::Ed25519Key> sealTo, std::uint32_t ledger,
                                std::uint64_t drops = 1, std::uint32_t sequence = 1) {
  auto memo = protocol::buildMemo(type, message, sealTo);
  if (!memo) throw std::runtime_error("messageTx: " + memo.error().message);
  ledger::Payment p;
  p.destination = to;
  p.amount.drops = drops;
  p.sequence = sequence;
  p.memos.push_back(protocol::memoToLedger(*memo));
  auto blob = ledger::signPayment(p, from);
  if (!blob) throw std::runtime_error("messageTx: " + blob.error().message);
  board::BoardTx t;
  t.blob = *blob;
  t.hash = ledger::transactionHash(*blob);
  t.ledgerIndex = ledger;
  t.result = "tesSUCCESS";
  return t;
}

inline protocol::HostAnnouncement announcement(const crypto::KeyPair& host, std::uint64_t time,
                                               std::uint64_t heartbeat = 60) {
  protocol::HostAnnouncement a;
  a.version = "0.1.0";
  a.key = edKey(host);
  a.host = "host.example.com";
  a.instances = 4;
  a.free = 2;
  a.cpuMillis = 1000;
  a.memoryMiB = 512;
  a.swapMiB = 256;
  a.diskMiB = 2048;
  a.price = 1000;
  a.momentSeconds = 3600;
  a.maxMoments = 720;
  a.images = {"hotpocket"};
  a.heartbeatSeconds = heartbeat;
  a.time = time;
  return a;
}

}  // namespace sashimono::client::fakes
