#pragma once
// bench_runtime_bench, part 2: a user of the Hot Pocket user protocol that keeps several requests
// in flight without a thread of its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "RuntimeBench.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime_bench {

// One user of the Hot Pocket user protocol (BSON), driven entirely from its WebSocket client's
// I/O callbacks, that keeps `window` requests in flight: contract inputs (each output proof is
// checked, as UserClient does: by the server's signature, or by `trusted` — a cluster's UNL — when
// given) or stat requests. UserClient needs a thread per user to block in await(); this needs none.
class PipeUser {
 public:
  static std::unique_ptr<PipeUser> connect(const std::string& url, std::uint64_t lcl,
                                           net::ClientContext* context, std::vector<PubKey> trusted = {}) {
    std::unique_ptr<PipeUser> u(new PipeUser());
    u->seq_ = lcl;
    u->trusted_ = std::move(trusted);
    u->nonce_ = nowMs();
    net::ClientOptions o;
    o.binaryFrames = true;
    o.context = context;
    PipeUser* raw = u.get();
    o.onMessage = [raw](std::string&& m) { raw->onMessage(std::move(m)); };
    auto ws = must(net::WsClient::connect(url, o), "connecting a pipelined user");
    std::vector<std::string> early;
    {
      std::lock_guard lock(u->mu_);  // the challenge may have arrived before connect() returned
      u->ws_ = std::move(ws);
      early.swap(u->early_);
    }
    for (auto& m : early) u->handshake(m);
    std::unique_lock lock(u->mu_);
    if (!u->cv_.wait_for(lock, std::chrono::seconds(15), [&] { return u->ready_ || !u->error_.empty(); }))
      die("pipelined user: no handshake within 15 s");
    if (!u->error_.empty()) die("pipelined user: " + u->error_);
    return u;
  }
  ~PipeUser() {
    if (ws_) ws_->close(std::chrono::milliseconds(500));
  }

  // Starts keeping `window` requests in flight; `count` decides whether completions are counted.
  void run(bool inputs, int window, std::atomic<bool>* count, std::atomic<std::uint64_t>* done) {
    {
      std::lock_guard lock(mu_);
      inputs_ = inputs;
      count_ = count;
      done_ = done;
      running_ = true;
    }
    for (int i = 0; i < window; ++i) sendOne();
  }
  // Stops sending and waits until nothing is in flight.
  void drain() {
    std::unique_lock lock(mu_);
    running_ = false;
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return inFlight_ == 0 || !error_.empty(); }))
      die("pipelined user: requests still in flight 30 s after the end");
    if (!error_.empty()) die("pipelined user: " + error_);
  }
  [[nodiscard]] std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  PipeUser() = default;

  static const std::string* str(const Value& v, std::string_view k) {
    const Value* f = v.find(k);
    return f != nullptr && f->isString() ? &f->asString() : nullptr;
  }

  void fail(std::string e) {
    {
      std::lock_guard lock(mu_);
      if (error_.empty()) error_ = std::move(e);
    }
    cv_.notify_all();
  }

  void sendOne() {
    std::string msg;
    {
      std::lock_guard lock(mu_);
      ++inFlight_;
      if (!inputs_) {
        Object o;
        o.emplace_back("type", Value("stat"));
        msg = renderBson(Value(std::move(o)));
      } else {
        const std::string text = "tput";
        Object container;
        container.reserve(3);  // (GCC 12 -O3 reports a false -Warray-bounds growing it from empty)
        container.emplace_back("input", Value::binary(core::asBytes(text)));
        container.emplace_back("nonce", Value::uint(++nonce_));
        container.emplace_back("max_ledger_seq_no", Value::uint(seq_ + 10));
        const std::string bytes = renderBson(Value(std::move(container)));
        Object o;
        o.emplace_back("type", Value("contract_input"));
        o.emplace_back("input_container", Value::binary(core::asBytes(bytes)));
        o.emplace_back("sig", Value::binary(user_.sign(core::asBytes(bytes))));
        msg = renderBson(Value(std::move(o)));
      }
    }
    if (auto st = ws_->send(std::move(msg)); !st) fail("send: " + st.error().message);
  }

  void completed() {
    bool again = false;
    {
      std::lock_guard lock(mu_);
      --inFlight_;
      if (count_ != nullptr && count_->load()) done_->fetch_add(1);
      again = running_;
    }
    if (again)
      sendOne();
    else
      cv_.notify_all();
  }

  void onMessage(std::string&& m) {
    if (!ready_) {
      {
        std::lock_guard lock(mu_);
        if (!ws_) {
          early_.push_back(std::move(m));
          return;
        }
      }
      handshake(m);
      return;
    }
    auto v = parseBson(core::asBytes(m), ParseLimits{64, m.size() + 1});
    if (!v) return fail("a message from the server: " + v.error().message);
    const std::string* type = str(*v, "type");
    if (type == nullptr) return;
    if (*type == "stat_response") {
      completed();
    } else if (*type == "contract_input_status") {
      const std::string* status = str(*v, "status");
      if (status == nullptr || *status != "accepted") {
        const std::string* reason = str(*v, "reason");
        return fail("input rejected: " + (reason != nullptr ? *reason : std::string("?")));
      }
      if (const Value* s = v->find("ledger_seq_no"); s != nullptr && s->isInt()) {
        std::lock_guard lock(mu_);
        seq_ = std::max(seq_, static_cast<std::uint64_t>(s->asInt()));
      }
      completed();
    } else if (*type == "ledger_event") {
      const Value* l = v->find("ledger");
      const Value* s = l != nullptr ? l->find("seq_no") : nullptr;
      if (s != nullptr && s->isInt()) {
        std::lock_guard lock(mu_);
        seq_ = std::max(seq_, static_cast<std::uint64_t>(s->asInt()));
      }
    } else if (*type == "contract_output") {
      std::vector<core::Bytes> outs;
      if (const Value* o = v->find("outputs"); o != nullptr && o->isArray())
        for (const auto& e : o->asArray())
          if (e.isBinary()) outs.push_back(e.asBinary());
      if (!verifyOutputProof(user_.publicKey(), outs, *v, trusted_)) fail("an output proof did not verify");
    }
  }

  void handshake(const std::string& m) {
    auto v = parseJson(m);
    if (!v || !v->isObject()) return fail("handshake: not JSON");
    const std::string* type = str(*v, "type");
    if (type != nullptr && *type == "user_challenge" && str(*v, "challenge") != nullptr) {
      contractId_ = str(*v, "contract_id") != nullptr ? *str(*v, "contract_id") : "";
      contractVersion_ = str(*v, "contract_version") != nullptr ? *str(*v, "contract_version") : "";
      Object r;
      r.emplace_back("type", Value("user_challenge_response"));
      r.emplace_back("sig", Value(core::toHexLower(user_.sign(core::asBytes(*str(*v, "challenge"))))));
      r.emplace_back("pubkey", Value(user_.publicHex()));
      r.emplace_back("server_challenge", Value(serverChallenge_));
      r.emplace_back("protocol", Value("bson"));
      if (auto st = ws_->send(renderJson(Value(std::move(r)))); !st) fail("handshake: " + st.error().message);
      return;
    }
    if (type != nullptr && *type == "server_challenge_response") {
      auto pk = str(*v, "pubkey") != nullptr ? parseHexKey(*str(*v, "pubkey")) : core::Error("no pubkey");
      auto sig = str(*v, "sig") != nullptr ? core::fromHex(*str(*v, "sig")) : core::Error("no sig");
      const std::string signedText = serverChallenge_ + contractId_ + contractVersion_;
      if (!pk || !sig || !crypto::verify(*pk, core::asBytes(signedText), *sig).ok())
        return fail("handshake: the server's signature does not verify");
      server_ = *pk;
      if (trusted_.empty()) trusted_.push_back(server_);
      Object sub;
      sub.emplace_back("type", Value("subscription"));
      sub.emplace_back("channel", Value("ledger_event"));
      sub.emplace_back("enabled", Value(true));
      if (auto st = ws_->send(renderBson(Value(std::move(sub)))); !st)
        return fail("subscribing: " + st.error().message);
      {
        std::lock_guard lock(mu_);
        ready_ = true;
      }
      cv_.notify_all();
      return;
    }
    fail("handshake: unexpected message");
  }

  std::unique_ptr<net::WsClient> ws_;
  InstanceKey user_ = InstanceKey::generate();
  PubKey server_{};
  std::vector<PubKey> trusted_;  // whose signatures count (set before the handshake completes)
  std::string serverChallenge_ = "bench" + std::to_string(nowMs());
  std::string contractId_, contractVersion_;
  std::vector<std::string> early_;  // handshake messages that came before ws_ was set
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  std::string error_;
  bool inputs_ = false, running_ = false;
  int inFlight_ = 0;
  std::uint64_t seq_ = 0, nonce_ = 0;
  std::atomic<bool>* count_ = nullptr;
  std::atomic<std::uint64_t>* done_ = nullptr;
};

}  // namespace sashimono::runtime_bench
