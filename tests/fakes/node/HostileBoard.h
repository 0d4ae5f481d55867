#pragma once
// A hostile board for node tests and benchmarks: a scripted WebSocket server on 127.0.0.1
// (board::fakes::ScriptedBoard) that keeps a small ledger of its own. It validates the node's
// reply payments (in Sequence order, answering submit / tx / account_info like rippled) and
// feeds the node whatever the caller plans, forged or not: each planned transaction goes into
// the next ledger with the result, delivered amount and hash the caller chooses, is listed by
// account_tx and/or streamed (only its hash; the node fetches it with `tx`). Ledgers close when
// the caller says (close()) or on a timer of the board's own (closeEvery()). Raw stream messages
// (garbage) can be pushed to the node at any time.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "fakes/board/ScriptedBoard.h"
#include "fakes/node/Forge.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"

namespace sashimono::node::fakes {

// A transaction the board puts into its next ledger.
struct Planned {
  core::Bytes blob;
  std::string result = "tesSUCCESS";
  std::optional<std::uint64_t> delivered;      // the metadata's DeliveredAmount (XRP)
  bool listed = true;                          // in the ledger's record (account_tx)
  bool streamed = true;                        // pushed as a `transaction` stream message
  std::optional<crypto::Hash256> claimedHash;  // stream and `tx` name this hash instead of its own
};

// The hostile board: a ledger in memory behind a ScriptedBoard. Thread-safe (the server's I/O
// thread answers requests while the caller, or the timed-close thread, closes ledgers).
class HostileBoard {
 public:
  using Clock = std::chrono::steady_clock;

  // A validated payment of the host's, with its ledger.
  struct HostPayment {
    core::Bytes blob;
    std::uint32_t ledger = 0;
  };

  HostileBoard(const crypto::KeyPair& host, std::uint32_t ledger)
      : hostAddress_(host.address()),
        hostId_(host.accountId()),
        ledger_(ledger),
        server_([this](net::WsSession& s, std::uint64_t id, const std::string& cmd,
                       const rapidjson::Document& r) { answer(s, id, cmd, r); }) {}
  ~HostileBoard() { stopClosing(); }
  HostileBoard(const HostileBoard&) = delete;
  HostileBoard& operator=(const HostileBoard&) = delete;

  [[nodiscard]] std::string url() const { return server_.url(); }
  [[nodiscard]] bool subscribed() const { return subscribed_; }
  [[nodiscard]] int sessions() const { return server_.opened(); }

  void plan(Planned p) {
    std::lock_guard lock(mu_);
    planned_.push_back(std::move(p));
  }
  // All of `ps` into the same ledger, in this order (atomic against a timed close).
  void plan(std::vector<Planned> ps) {
    std::lock_guard lock(mu_);
    for (auto& p : ps) planned_.push_back(std::move(p));
  }
  // A raw stream message to every open session, now.
  void push(const std::string& text) { server_.broadcast(text); }

  // Timed mode: a thread of the board's own closes a ledger every `interval` (on a fixed
  // schedule, not drifting with the time a close takes) until stopClosing() or destruction.
  void closeEvery(std::chrono::milliseconds interval) {
    stopClosing();
    {
      std::lock_guard lock(timerMu_);
      stopTimer_ = false;
    }
    timer_ = std::thread([this, interval] {
      auto next = Clock::now() + interval;
      std::unique_lock lock(timerMu_);
      while (!timerCv_.wait_until(lock, next, [this] { return stopTimer_; })) {
        lock.unlock();
        close();
        lock.lock();
        next += interval;
        if (const auto now = Clock::now(); next < now) next = now;  // a close overran: no burst
      }
    });
  }
  void stopClosing() {
    {
      std::lock_guard lock(timerMu_);
      stopTimer_ = true;
    }
    timerCv_.notify_all();
    if (timer_.joinable()) timer_.join();
  }

  // Closes and validates the next ledger: the planned transactions, then the node's submitted
  // replies that apply (Sequence order; expired or used sequences are dropped). Streams the
  // ledger's transactions, then ledgerClosed. Returns the ledger index. The time of the first
  // stream message is the ledger's validation time (closedAt).
  std::uint32_t close() {
    std::vector<std::string> out;
    std::uint32_t closed = 0;
    {
      std::lock_guard lock(mu_);
      closed = ++ledger_;
      std::uint32_t index = 0;
      const std::size_t first = entries_.size();
      for (auto& p : planned_) addEntry(std::move(p), index++);
      planned_.clear();
      for (bool progress = true; progress;) {
        progress = false;
        for (auto it = pool_.begin(); it != pool_.end();) {
          auto d = ledger::decodeTransaction(it->second);
          if (!d || (d->lastLedgerSequence && *d->lastLedgerSequence < closed) || d->sequence < hostSeq_) {
            it = pool_.erase(it);
          } else if (d->sequence == hostSeq_) {
            ++hostSeq_;
            hostPayments_.push_back(HostPayment{it->second, closed});
            Planned p;
            p.blob = it->second;
            if (d->amount && d->amount->native) p.delivered = d->amount->drops;
            addEntry(std::move(p), index++);
            it = pool_.erase(it);
            progress = true;
          } else {
            ++it;
          }
        }
      }
      for (std::size_t i = first; i < entries_.size(); ++i)
        if (entries_[i].streamed) out.push_back(entries_[i].message);
      char ledgerHash[65];
      std::snprintf(ledgerHash, sizeof ledgerHash, "%064X", closed);
      out.push_back(
          R"({"type":"ledgerClosed","ledger_index":)" + std::to_string(closed) + R"(,"ledger_hash":")" +
          ledgerHash +
          R"(","ledger_time":780000000,"fee_base":10,"reserve_base":1000000,"reserve_inc":200000,)" +
          R"("txn_count":)" + std::to_string(index) + R"(,"validated_ledgers":"1-)" + std::to_string(closed) +
          R"("})");
      closedAt_[closed] = Clock::now();
    }
    for (const auto& m : out) server_.broadcast(m);
    return closed;
  }

  // The stream message last sent for a (claimed) hash, to replay it.
  [[nodiscard]] std::string messageFor(const crypto::Hash256& claimed) const {
    std::lock_guard lock(mu_);
    auto it = byClaim_.find(claimed);
    return it == byClaim_.end() ? std::string() : entries_[it->second].message;
  }
  // The node's payments validated so far, in ledger order.
  [[nodiscard]] std::vector<core::Bytes> hostPayments() const {
    std::lock_guard lock(mu_);
    std::vector<core::Bytes> out;
    out.reserve(hostPayments_.size());
    for (const auto& p : hostPayments_) out.push_back(p.blob);
    return out;
  }
  // The same, with the ledger each was validated in.
  [[nodiscard]] std::vector<HostPayment> hostPaymentsWithLedger() const {
    std::lock_guard lock(mu_);
    return hostPayments_;
  }
  // The ledger a (claimed) hash was last validated in.
  [[nodiscard]] std::optional<std::uint32_t> ledgerOf(const crypto::Hash256& claimed) const {
    std::lock_guard lock(mu_);
    auto it = byClaim_.find(claimed);
    return it == byClaim_.end() ? std::nullopt : std::optional<std::uint32_t>(entries_[it->second].ledger);
  }
  // When a ledger closed here (just before its first stream message went out); nullopt if it
  // has not.
  [[nodiscard]] std::optional<Clock::time_point> closedAt(std::uint32_t ledger) const {
    std::lock_guard lock(mu_);
    auto it = closedAt_.find(ledger);
    return it == closedAt_.end() ? std::nullopt : std::optional<Clock::time_point>(it->second);
  }
  [[nodiscard]] std::uint32_t lastClosed() const {
    std::lock_guard lock(mu_);
    return ledger_;
  }
  // `tx` requests the node made for a hash.
  [[nodiscard]] int lookups(const crypto::Hash256& hash) const {
    std::lock_guard lock(mu_);
    auto it = lookups_.find(hash);
    return it == lookups_.end() ? 0 : it->second;
  }
  [[nodiscard]] std::size_t submits() const {
    std::lock_guard lock(mu_);
    return submits_;
  }

 private:
  struct Entry {
    core::Bytes blob;
    core::Bytes meta;
    crypto::Hash256 claimed{};
    std::uint32_t ledger = 0;
    bool listed = true;
    bool streamed = true;
    std::string result;
    std::string message;  // its `transaction` stream message
  };

  static std::string errorReply(std::uint64_t id, const std::string& token, bool searchedAll) {
    return R"({"id":)" + std::to_string(id) + R"(,"status":"error","type":"response","error":")" + token +
           R"(","searched_all":)" + (searchedAll ? "true" : "false") + "}";
  }
  static std::string field(const rapidjson::Document& r, const char* name) {
    auto it = r.FindMember(name);
    return it != r.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
  }
  static std::int64_t number(const rapidjson::Document& r, const char* name, std::int64_t otherwise) {
    auto it = r.FindMember(name);
    return it != r.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : otherwise;
  }

  void addEntry(Planned p, std::uint32_t index) {
    Entry e;
    e.meta = forgedMeta(index, p.result, p.delivered);
    e.claimed = p.claimedHash.value_or(ledger::transactionHash(p.blob));
    e.blob = std::move(p.blob);
    e.ledger = ledger_;
    e.listed = p.listed;
    e.streamed = p.streamed;
    e.result = p.result;
    e.message = R"({"type":"transaction","validated":true,"status":"closed","ledger_index":)" +
                std::to_string(e.ledger) + R"(,"engine_result":")" + e.result +
                R"(","transaction":{"hash":")" + core::toHex(e.claimed) +
                R"("},"meta":{"TransactionIndex":)" + std::to_string(index) + R"(,"TransactionResult":")" +
                e.result + R"("}})";
    byClaim_[e.claimed] = entries_.size();  // a later ledger's copy (a replay) answers `tx`
    entries_.push_back(std::move(e));
  }

  void answer(net::WsSession& s, std::uint64_t id, const std::string& cmd, const rapidjson::Document& r) {
    std::string result;
    std::string error;
    {
      std::lock_guard lock(mu_);
      const std::string l = std::to_string(ledger_);
      if (cmd == "subscribe") {
        subscribed_ = true;
        result = R"({"ledger_index":)" + l + R"(,"validated_ledgers":"1-)" + l + R"("})";
      } else if (cmd == "account_tx") {
        std::int64_t lo = number(r, "ledger_index_min", -1);
        std::int64_t hi = number(r, "ledger_index_max", -1);
        if (lo < 0) lo = 1;
        if (hi < 0) hi = ledger_;
        std::string txs;
        for (const auto& e : entries_) {
          if (!e.listed || e.ledger < lo || e.ledger > hi) continue;
          if (!txs.empty()) txs += ',';
          txs += R"({"ledger_index":)" + std::to_string(e.ledger) + R"(,"meta":")" + core::toHex(e.meta) +
                 R"(","tx_blob":")" + core::toHex(e.blob) + R"(","validated":true})";
        }
        result = R"({"account":")" + hostAddress_ + R"(","ledger_index_min":)" + std::to_string(lo) +
                 R"(,"ledger_index_max":)" + std::to_string(hi) + R"(,"limit":200,"transactions":[)" + txs +
                 "]}";
      } else if (cmd == "tx") {
        auto h = core::fromHex(field(r, "transaction"));
        crypto::Hash256 hash{};
        if (h && h->size() == 32) std::copy(h->begin(), h->end(), hash.begin());
        ++lookups_[hash];
        if (auto it = byClaim_.find(hash); it != byClaim_.end()) {
          const Entry& e = entries_[it->second];
          result = R"({"hash":")" + core::toHex(e.claimed) + R"(","ledger_index":)" +
                   std::to_string(e.ledger) + R"(,"meta":")" + core::toHex(e.meta) + R"(","tx_blob":")" +
                   core::toHex(e.blob) + R"(","validated":true})";
        } else if (auto p = pool_.find(hash); p != pool_.end()) {
          result = R"({"hash":")" + core::toHex(hash) + R"(","tx_blob":")" + core::toHex(p->second) +
                   R"(","validated":false})";
        } else {
          error = "txnNotFound";
        }
      } else if (cmd == "server_info") {
        result = R"({"info":{"build_version":"hostile","complete_ledgers":"1-)" + l +
                 R"(","server_state":"full","peers":0,"validated_ledger":{"seq":)" + l + R"(,"hash":")" +
                 std::string(64, 'A') + R"("}}})";
      } else if (cmd == "server_state") {
        result =
            R"({"state":{"server_state":"full","validated_ledger":{"base_fee":10,"reserve_base":1000000,)"
            R"("reserve_inc":200000,"seq":)" +
            l + "}}}";
      } else if (cmd == "fee") {
        result = R"({"drops":{"base_fee":"10","median_fee":"10","minimum_fee":"10","open_ledger_fee":"10"},)"
                 R"("ledger_current_index":)" +
                 std::to_string(ledger_ + 1) + "}";
      } else if (cmd == "account_info") {
        if (field(r, "account") == hostAddress_) {
          result = R"({"account_data":{"Account":")" + hostAddress_ +
                   R"(","Balance":"100000000","Flags":0,)" + R"("OwnerCount":0,"Sequence":)" +
                   std::to_string(hostSeq_) + R"(},"ledger_index":)" + l + R"(,"validated":true})";
        } else {
          error = "actNotFound";
        }
      } else if (cmd == "submit") {
        auto blob = core::fromHex(field(r, "tx_blob"));
        std::optional<ledger::DecodedTx> d;
        if (blob) {
          if (auto dd = ledger::decodeTransaction(*blob); dd.ok()) d = std::move(*dd);
        }
        if (!d || d->account != hostId_ || !ledger::verifySignature(*d).ok()) {
          result =
              R"({"engine_result":"temMALFORMED","engine_result_code":-299,"accepted":false,"applied":false})";
        } else {
          ++submits_;
          if (d->sequence >= hostSeq_) pool_.emplace(d->hash, *blob);
          result = R"({"engine_result":"tesSUCCESS","engine_result_code":0,"accepted":true,"applied":true,)"
                   R"("tx_json":{"hash":")" +
                   core::toHex(d->hash) + R"("}})";
        }
      } else {
        result = "{}";
      }
    }
    if (!error.empty())
      s.send(errorReply(id, error, true));
    else
      s.send(board::fakes::ScriptedBoard::success(id, result));
  }

  const std::string hostAddress_;
  const crypto::AccountId hostId_;
  mutable std::mutex mu_;
  std::uint32_t ledger_;
  std::uint32_t hostSeq_ = 1;
  std::size_t submits_ = 0;
  std::atomic<bool> subscribed_{false};
  std::vector<Planned> planned_;
  std::vector<Entry> entries_;
  std::map<crypto::Hash256, std::size_t> byClaim_;
  std::map<crypto::Hash256, core::Bytes> pool_;
  std::map<crypto::Hash256, int> lookups_;
  std::vector<HostPayment> hostPayments_;
  std::map<std::uint32_t, Clock::time_point> closedAt_;
  std::mutex timerMu_;
  std::condition_variable timerCv_;
  bool stopTimer_ = false;
  std::thread timer_;
  board::fakes::ScriptedBoard server_;  // last: its thread calls answer() as soon as it exists
};

}  // namespace sashimono::node::fakes
