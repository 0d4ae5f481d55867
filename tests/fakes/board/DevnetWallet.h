#pragma once
// Sends signed payments from the devnet's genesis account through a BoardClient (no account
// followed) and waits for their validation — the developer's side in board integration tests.
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "fakes/board/TestTx.h"
#include "sashimono/board/BoardClient.h"

namespace sashimono::board::fakes {

class DevnetWallet {
 public:
  // `networkId`: the NetworkID its payments carry (a devnet started with --network-id above 1024).
  DevnetWallet(const std::string& url, const std::string& genesisSeed,
               std::optional<std::uint32_t> networkId = {})
      : key_(keyFromSeed(genesisSeed)), networkId_(networkId) {
    BoardOptions o;
    o.urls = {url};
    o.requestTimeout = std::chrono::milliseconds(5000);
    o.backoffMin = std::chrono::milliseconds(50);
    o.backoffMax = std::chrono::milliseconds(200);
    client_ = std::make_unique<BoardClient>(o);
    if (!client_->start(std::nullopt).ok() || !client_->waitConnected(std::chrono::seconds(20)))
      throw std::runtime_error("DevnetWallet: cannot connect");
  }

  BoardClient& client() { return *client_; }

  // Submits a payment; returns its hash (upper hex) and remembers the blob.
  std::string pay(const std::string& to, std::uint64_t drops) {
    if (!sequence_) {
      auto info = client_->accountInfo(key_.address(), false);
      if (!info.ok()) throw std::runtime_error("account_info: " + info.error().message);
      sequence_ = info->sequence;
    }
    auto blob = signedPayment(key_, to, drops, *sequence_, 10, networkId_);
    auto r = client_->submit(blob);
    if (!r.ok()) throw std::runtime_error("submit: " + r.error().message);
    if (r->engineResult != "tesSUCCESS") throw std::runtime_error("submit: " + r->engineResult);
    ++*sequence_;
    std::string hash = core::toHex(ledger::transactionHash(blob));
    blobs_[hash] = std::move(blob);
    return hash;
  }

  // Waits until the transaction is validated; returns its ledger.
  std::uint32_t waitValidated(const std::string& hashHex,
                              std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    TxQuery q;
    auto b = core::fromHex(hashHex);
    std::copy(b->begin(), b->end(), q.hash.begin());
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto t = client_->tx(q);
      if (t.ok() && t->validated) return t->tx.ledgerIndex;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("tx " + hashHex + " not validated in time");
  }

  const core::Bytes& blob(const std::string& hashHex) { return blobs_.at(hashHex); }
  // After a devnet restart the sequence is read again.
  void forgetSequence() { sequence_.reset(); }

 private:
  crypto::KeyPair key_;
  std::optional<std::uint32_t> networkId_;
  std::unique_ptr<BoardClient> client_;
  std::optional<std::uint32_t> sequence_;
  std::map<std::string, core::Bytes> blobs_;
};

inline std::string newGenesisSeed() {
  return crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
}

}  // namespace sashimono::board::fakes
