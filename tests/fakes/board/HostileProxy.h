#pragma once
// A board that lies: a WebSocket proxy on 127.0.0.1 in front of a real board (the devnet). Each
// client connection gets its own upstream connection; requests go up verbatim (ids kept), and
// every answer and stream message comes back through the test's hooks, which may change it or
// drop it. The test can also push messages of its own (forged validations, far-ahead ledgers).
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "fakes/board/LoopServer.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::board::fakes {

class HostileProxy {
 public:
  // An answer to `command` (the request's "command"), or a stream message (command empty).
  // Return false to drop the message.
  using Hook = std::function<bool(const std::string& command, rapidjson::Document& message)>;

  explicit HostileProxy(std::string upstreamUrl, Hook hook = {})
      : loop_(std::make_shared<Handler>(std::move(upstreamUrl), std::move(hook)), "HostileProxy") {}
  // Closes the client and upstream connections first; loop_ then stops the server and its thread.
  ~HostileProxy() { loop_.handler().closeAll(); }
  HostileProxy(const HostileProxy&) = delete;
  HostileProxy& operator=(const HostileProxy&) = delete;

  [[nodiscard]] std::string url() const { return loop_.url(); }
  // Sends a message of the proxy's own to every client.
  void inject(const std::string& text) {
    for (auto& s : loop_.handler().sessions()) s->send(text);
  }
  [[nodiscard]] int opened() const { return loop_.handler().opened; }
  // Messages the hook dropped or changed (it reports changes by calling changed()).
  [[nodiscard]] int dropped() const { return loop_.handler().dropped; }

  static std::string text(const rapidjson::Value& v) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    v.Accept(w);
    return {b.GetString(), b.GetSize()};
  }

 private:
  struct Link {
    std::shared_ptr<net::WsSession> down;
    std::unique_ptr<net::WsClient> up;
    std::mutex mu;
    std::map<std::uint64_t, std::string> commands;  // request id -> command
  };

  struct Handler : net::WsHandler {
    Handler(std::string u, Hook h) : upstream(std::move(u)), hook(std::move(h)) {}

    void onOpen(const std::shared_ptr<net::WsSession>& s) override {
      auto link = std::make_shared<Link>();
      link->down = s;
      net::ClientOptions co;
      std::weak_ptr<Link> weak = link;
      co.onMessage = [this, weak](std::string&& text) {
        auto l = weak.lock();
        if (!l) return;
        rapidjson::Document d;
        d.Parse(text.c_str(), text.size());
        if (d.HasParseError() || !d.IsObject()) {
          l->down->send(std::move(text));
          return;
        }
        std::string command;
        if (d.HasMember("id") && d["id"].IsUint64()) {
          std::lock_guard lock(l->mu);
          auto it = l->commands.find(d["id"].GetUint64());
          if (it != l->commands.end()) {
            command = it->second;
            l->commands.erase(it);
          }
        }
        if (hook && !hook(command, d)) {
          ++dropped;
          return;
        }
        l->down->send(HostileProxy::text(d));
      };
      auto up = net::WsClient::connect(upstream, co);
      if (!up.ok()) {
        s->close();
        return;
      }
      link->up = std::move(*up);
      std::lock_guard lock(mu);
      links[s.get()] = link;
      ++opened;
    }
    void onClose(const std::shared_ptr<net::WsSession>& s) override {
      std::shared_ptr<Link> link;
      {
        std::lock_guard lock(mu);
        auto it = links.find(s.get());
        if (it == links.end()) return;
        link = it->second;
        links.erase(it);
      }
      retire(link);
    }
    void onMessage(const std::shared_ptr<net::WsSession>& s, std::string&& text) override {
      std::shared_ptr<Link> link;
      {
        std::lock_guard lock(mu);
        auto it = links.find(s.get());
        if (it == links.end()) return;
        link = it->second;
      }
      rapidjson::Document d;
      d.Parse(text.c_str(), text.size());
      if (!d.HasParseError() && d.IsObject() && d.HasMember("id") && d["id"].IsUint64() &&
          d.HasMember("command") && d["command"].IsString()) {
        std::lock_guard lock(link->mu);
        link->commands[d["id"].GetUint64()] = d["command"].GetString();
      }
      (void)link->up->send(std::move(text));
    }
    std::vector<std::shared_ptr<net::WsSession>> sessions() {
      std::lock_guard lock(mu);
      std::vector<std::shared_ptr<net::WsSession>> out;
      for (auto& [k, l] : links) out.push_back(l->down);
      return out;
    }
    void closeAll() {
      std::map<net::WsSession*, std::shared_ptr<Link>> all;
      {
        std::lock_guard lock(mu);
        all.swap(links);
      }
      for (auto& [k, l] : all) {
        l->down->close();
        retire(l);
      }
    }
    // Closes the upstream connection and joins its I/O thread (never called with `mu` held),
    // so no hook runs after it.
    static void retire(const std::shared_ptr<Link>& link) {
      if (link->up) link->up->close(std::chrono::milliseconds(500));
      link->up.reset();
    }

    std::string upstream;
    Hook hook;
    std::mutex mu;
    std::map<net::WsSession*, std::shared_ptr<Link>> links;
    std::atomic<int> opened{0};
    std::atomic<int> dropped{0};
  };

  LoopServer<Handler> loop_;
};

}  // namespace sashimono::board::fakes
