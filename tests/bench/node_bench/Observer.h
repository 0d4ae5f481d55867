#pragma once
// bench_node_bench's own view of the board (parts 1 and 2).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "NodeBench.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/net/WsClient.h"

namespace sashimono::node_bench {

// ---------------------------------------------------------------------------------------------
// Our own view of the board: a subscription to the host account; every transaction's arrival
// time (validated), sender, destination and memo type.
struct SeenTx {
  Clock::time_point at;
  std::string hash;
  std::string account;
  std::string destination;
  std::string memoType;  // decoded text
  std::uint32_t ledger = 0;
};

class Observer {
 public:
  Observer(const std::string& url, const std::string& account) {
    net::ClientOptions o;
    o.onMessage = [this](std::string&& text) { onMessage(std::move(text)); };
    auto c = net::WsClient::connect(url, o);
    if (!c) throw std::runtime_error("observer: " + c.error().message);
    client_ = std::move(*c);
    if (!client_->send(R"({"id":1,"command":"subscribe","streams":["ledger"],"accounts":[")" + account +
                       "\"]}"))
      throw std::runtime_error("observer: subscribe failed");
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 10s, [&] { return subscribed_; }))
      throw std::runtime_error("observer: no subscription");
  }
  ~Observer() { client_->close(500ms); }

  // Waits for a transaction matching `pred` (searched from the first one, in arrival order).
  std::optional<SeenTx> waitFor(const std::function<bool(const SeenTx&)>& pred,
                                std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    std::unique_lock lk(mu_);
    while (true) {
      for (const auto& t : txs_)
        if (pred(t)) return t;
      checkInterrupted();
      if (Clock::now() >= end) return std::nullopt;
      cv_.wait_for(lk, 100ms);
    }
  }
  // Waits until `pred` matches `count` transactions; returns the arrival time of the last.
  std::optional<Clock::time_point> waitCount(const std::function<bool(const SeenTx&)>& pred,
                                             std::size_t count, std::chrono::milliseconds limit,
                                             std::size_t* got = nullptr) {
    const auto end = Clock::now() + limit;
    std::unique_lock lk(mu_);
    while (true) {
      std::size_t n = 0;
      Clock::time_point last{};
      for (const auto& t : txs_)
        if (pred(t)) {
          ++n;
          last = t.at;
        }
      if (got) *got = n;
      if (n >= count) return last;
      checkInterrupted();
      if (Clock::now() >= end) return std::nullopt;
      cv_.wait_for(lk, 100ms);
    }
  }
  // The first and last ledger of the transactions matching `pred` ({0, 0}: none).
  std::pair<std::uint32_t, std::uint32_t> ledgerRange(const std::function<bool(const SeenTx&)>& pred) {
    std::lock_guard lk(mu_);
    std::uint32_t lo = 0, hi = 0;
    for (const auto& t : txs_)
      if (pred(t)) {
        lo = lo == 0 ? t.ledger : std::min(lo, t.ledger);
        hi = std::max(hi, t.ledger);
      }
    return {lo, hi};
  }
  // When ledger `ledger` was validated, as this client saw it: the arrival of its first stream
  // message (its transactions come before its ledgerClosed, in ledger order).
  Clock::time_point ledgerValidatedAt(std::uint32_t ledger) {
    std::lock_guard lk(mu_);
    auto it = ledgers_.find(ledger);
    return it == ledgers_.end() ? Clock::time_point{} : it->second;
  }

 private:
  static std::string str(const rapidjson::Value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
  }
  void onMessage(std::string&& text) {
    const auto now = Clock::now();
    rapidjson::Document d;
    d.Parse(text.c_str());
    if (d.HasParseError() || !d.IsObject()) return;
    std::lock_guard lk(mu_);
    const std::string type = str(d, "type");
    if (type == "response") {
      subscribed_ = true;
    } else if (type == "ledgerClosed" && d.HasMember("ledger_index") && d["ledger_index"].IsUint()) {
      ledgers_.emplace(d["ledger_index"].GetUint(), now);
    } else if (type == "transaction") {
      const char* key = d.HasMember("tx_json") ? "tx_json" : "transaction";
      if (!d.HasMember(key) || !d[key].IsObject()) return;
      const auto& tx = d[key];
      SeenTx s;
      s.at = now;
      s.hash = d.HasMember("hash") ? str(d, "hash") : str(tx, "hash");
      s.account = str(tx, "Account");
      s.destination = str(tx, "Destination");
      if (d.HasMember("ledger_index") && d["ledger_index"].IsUint()) s.ledger = d["ledger_index"].GetUint();
      ledgers_.emplace(s.ledger, now);
      auto memos = tx.FindMember("Memos");
      if (memos != tx.MemberEnd() && memos->value.IsArray() && !memos->value.Empty()) {
        const auto& m = memos->value[0];
        if (m.IsObject() && m.HasMember("Memo") && m["Memo"].IsObject()) {
          auto t = core::fromHex(str(m["Memo"], "MemoType"));
          if (t) s.memoType.assign(t->begin(), t->end());
        }
      }
      txs_.push_back(std::move(s));
    }
    cv_.notify_all();
  }

  std::unique_ptr<net::WsClient> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;
  std::vector<SeenTx> txs_;
  std::map<std::uint32_t, Clock::time_point> ledgers_;
};

}  // namespace sashimono::node_bench
