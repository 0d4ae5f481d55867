#pragma once
// An in-process board server for unit tests of the board client: no sockets. It holds a ledger
// history (transactions for the followed account per ledger), answers subscribe, account_tx
// (binary, paged), tx (binary), ping, and streams transaction/ledgerClosed messages to
// subscribed connections. Each connection delivers its messages from its own thread, in order,
// like a socket's I/O thread. Knobs let a test make it quiet, drop connections, lie, or repeat.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/board/Connection.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::board::fakes {

struct FakeTx {
  core::Bytes blob;
  core::Bytes meta;
  std::string hashHex;
};

class FakeBoard : public std::enable_shared_from_this<FakeBoard> {
 public:
  // Knobs (set before or during a test).
  std::atomic<bool> refuseConnections{false};
  std::atomic<bool> streamTransactions{true};  // false: the stream loses transaction messages
  std::atomic<bool> corruptTxBlobs{false};     // `tx` answers with another blob
  std::atomic<int> pageSize{2};
  std::atomic<int> connections{0};
  std::atomic<int> accountTxCalls{0};
  std::atomic<int> txCalls{0};
  std::atomic<int> dropOnAccountTxCall{0};   // the Nth account_tx drops the connection instead
  std::atomic<int> floodBeforeSubscribe{0};  // stream messages sent ahead of the subscribe answer

  // ledger_index_min of every account_tx request so far.
  std::vector<std::uint32_t> accountTxMins() const {
    std::lock_guard lock(mu_);
    return accountTxMins_;
  }

  explicit FakeBoard(std::uint32_t validated = 10) : validated_(validated) {}

  // Adds a validated ledger with these transactions; streams them (unless streamTransactions is
  // false) and then ledgerClosed — or, with ledgerFirst, ledgerClosed first, as rippled does.
  void closeLedger(const std::vector<FakeTx>& txs, bool ledgerFirst = false) {
    std::vector<std::shared_ptr<Conn>> conns;
    std::uint32_t seq = 0;
    {
      std::lock_guard lock(mu_);
      seq = ++validated_;
      ledgers_[seq] = txs;
      conns = subscribed();
    }
    for (auto& c : conns) {
      if (ledgerFirst) c->push(ledgerClosedMsg(seq));
      if (streamTransactions)
        for (const auto& t : txs) c->push(transactionMsg(t, seq));
      if (!ledgerFirst) c->push(ledgerClosedMsg(seq));
    }
  }
  // Streams a message to every subscribed connection, as is.
  void streamRaw(const std::string& text) {
    std::vector<std::shared_ptr<Conn>> conns;
    {
      std::lock_guard lock(mu_);
      conns = subscribed();
    }
    for (auto& c : conns) c->push(text);
  }
  // Closes every connection (as a server going away).
  void dropAll() {
    std::vector<std::shared_ptr<Conn>> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(conns_);
    }
    for (auto& c : conns) c->shut();
  }
  std::uint32_t validated() const {
    std::lock_guard lock(mu_);
    return validated_;
  }

  TransportFactory factory() {
    std::weak_ptr<FakeBoard> weak = shared_from_this();
    return [weak](const std::string&, const net::ClientOptions&,
                  MessageFn onMessage) -> core::Result<std::unique_ptr<Transport>> {
      auto self = weak.lock();
      if (!self || self->refuseConnections) return core::Error("fake board: connection refused");
      auto c = std::make_shared<Conn>(std::move(onMessage));
      {
        std::lock_guard lock(self->mu_);
        self->conns_.push_back(c);
      }
      ++self->connections;
      return std::unique_ptr<Transport>(new Client(self, c));
    };
  }

  static std::string ledgerClosedMsg(std::uint32_t seq) {
    return R"({"type":"ledgerClosed","ledger_index":)" + std::to_string(seq) +
           R"(,"ledger_hash":"00","txn_count":0})";
  }
  static std::string transactionMsg(const FakeTx& t, std::uint32_t seq) {
    return R"({"type":"transaction","validated":true,"engine_result":"tesSUCCESS","ledger_index":)" +
           std::to_string(seq) + R"(,"transaction":{"hash":")" + t.hashHex + R"("},"meta":{}})";
  }

 private:
  // One connection: a queue drained by its own thread into onMessage.
  struct Conn {
    explicit Conn(MessageFn fn) : onMessage(std::move(fn)), thread([this] { loop(); }) {}
    ~Conn() {
      shut();
      if (thread.joinable()) thread.join();
    }
    void push(std::string text) {
      std::lock_guard lock(mu);
      if (!open) return;
      queue.push_back(std::move(text));
      cv.notify_all();
    }
    void shut() {
      std::lock_guard lock(mu);
      open = false;
      cv.notify_all();
    }
    void loop() {
      std::unique_lock lock(mu);
      while (true) {
        cv.wait(lock, [&] { return !queue.empty() || !open; });
        if (!open) return;
        std::string t = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        onMessage(std::move(t));
        lock.lock();
      }
    }
    MessageFn onMessage;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> queue;
    bool open = true;
    bool subscribed = false;
    std::thread thread;
  };

  class Client : public Transport {
   public:
    Client(std::shared_ptr<FakeBoard> b, std::shared_ptr<Conn> c)
        : board_(std::move(b)), conn_(std::move(c)) {}
    ~Client() override { close(); }
    core::Status send(std::string text) override {
      if (!isOpen()) return core::Error("closed");
      board_->handle(*conn_, text);
      return {};
    }
    [[nodiscard]] bool isOpen() const override {
      std::lock_guard lock(conn_->mu);
      return conn_->open;
    }
    void close() override { conn_->shut(); }

   private:
    std::shared_ptr<FakeBoard> board_;
    std::shared_ptr<Conn> conn_;
  };

  std::vector<std::shared_ptr<Conn>> subscribed() {
    std::vector<std::shared_ptr<Conn>> out;
    for (auto& c : conns_) {
      std::lock_guard lock(c->mu);
      if (c->open && c->subscribed) out.push_back(c);
    }
    return out;
  }

  void handle(Conn& c, const std::string& text) {
    rapidjson::Document req;
    req.Parse(text.c_str());
    const auto id = req["id"].GetUint64();
    const std::string cmd = req["command"].GetString();
    std::string result;
    std::lock_guard lock(mu_);
    if (cmd == "subscribe") {
      for (int i = floodBeforeSubscribe.exchange(0); i > 0; --i) pushLocked(c, R"({"type":"serverStatus"})");
      {
        std::lock_guard l2(c.mu);
        c.subscribed = true;
      }
      result = R"({"ledger_index":)" + std::to_string(validated_) + R"(,"validated_ledgers":"1-)" +
               std::to_string(validated_) + "\"}";
    } else if (cmd == "account_tx") {
      // -1 (as rippled): the earliest ledger held / the latest validated.
      const std::int64_t loReq = req["ledger_index_min"].GetInt64();
      const std::int64_t hiReq = req["ledger_index_max"].GetInt64();
      std::uint32_t lo = loReq < 0 ? 1 : static_cast<std::uint32_t>(loReq);
      accountTxMins_.push_back(lo);
      if (++accountTxCalls == dropOnAccountTxCall) {
        c.shut();
        return;
      }
      std::uint32_t hi = hiReq < 0 ? validated_ : static_cast<std::uint32_t>(hiReq);
      std::size_t skip = 0;
      if (req.HasMember("marker") && req["marker"].IsObject()) skip = req["marker"]["skip"].GetUint();
      std::vector<std::pair<std::uint32_t, const FakeTx*>> all;
      for (auto it = ledgers_.lower_bound(lo); it != ledgers_.end() && it->first <= hi; ++it)
        for (const auto& t : it->second) all.emplace_back(it->first, &t);
      std::string txs;
      std::size_t end = std::min(all.size(), skip + static_cast<std::size_t>(pageSize));
      for (std::size_t i = skip; i < end; ++i) {
        if (!txs.empty()) txs += ',';
        txs += R"({"ledger_index":)" + std::to_string(all[i].first) + R"(,"meta":")" +
               core::toHex(all[i].second->meta) + R"(","tx_blob":")" + core::toHex(all[i].second->blob) +
               R"(","validated":true})";
      }
      result = R"({"ledger_index_min":)" + std::to_string(lo) + R"(,"ledger_index_max":)" +
               std::to_string(hi) + R"(,"transactions":[)" + txs + "]";
      if (end < all.size()) result += R"(,"marker":{"skip":)" + std::to_string(end) + "}";
      result += R"(,"validated":true})";
    } else if (cmd == "tx") {
      ++txCalls;
      std::string want = req["transaction"].GetString();
      for (const auto& [seq, txs] : ledgers_) {
        for (const auto& t : txs) {
          if (t.hashHex != want) continue;
          core::Bytes blob = t.blob;
          if (corruptTxBlobs) blob.back() ^= 1;
          result = R"({"tx":")" + core::toHex(blob) + R"(","meta":")" + core::toHex(t.meta) +
                   R"(","hash":")" + t.hashHex + R"(","ledger_index":)" + std::to_string(seq) +
                   R"(,"validated":true})";
        }
      }
      if (result.empty()) {
        pushLocked(c, R"({"id":)" + std::to_string(id) +
                          R"(,"status":"error","type":"response","error":"txnNotFound","error_code":29})");
        return;
      }
    } else {
      result = "{}";
    }
    pushLocked(c, R"({"id":)" + std::to_string(id) + R"(,"status":"success","type":"response","result":)" +
                      result + "}");
  }
  static void pushLocked(Conn& c, std::string text) { c.push(std::move(text)); }

  mutable std::mutex mu_;
  std::uint32_t validated_;
  std::map<std::uint32_t, std::vector<FakeTx>> ledgers_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::uint32_t> accountTxMins_;
};

// A FakeTx from a signed blob and its index in the ledger.
inline FakeTx fakeTx(core::Bytes blob, core::Bytes meta) {
  FakeTx t;
  t.hashHex = core::toHex(ledger::transactionHash(blob));
  t.blob = std::move(blob);
  t.meta = std::move(meta);
  return t;
}

}  // namespace sashimono::board::fakes
