#pragma once
// A test board on a real socket (net::WsServer on 127.0.0.1): each request goes to a script the
// test supplies, which answers (or not) through the session; the test can also push stream
// messages to every open session or drop them all. For failure tests: quiet subscriptions,
// disconnects, forged and duplicate transactions, garbage.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "fakes/board/LoopServer.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::board::fakes {

class ScriptedBoard {
 public:
  // (session, request id, command, the whole request)
  using Script = std::function<void(net::WsSession&, std::uint64_t id, const std::string& command,
                                    const rapidjson::Document& request)>;

  explicit ScriptedBoard(Script script)
      : loop_(std::make_shared<Handler>(std::move(script)), "ScriptedBoard") {}

  [[nodiscard]] std::string url() const { return loop_.url(); }
  void broadcast(const std::string& text) {
    for (auto& s : loop_.handler().sessions()) s->send(text);
  }
  void dropAll() {
    for (auto& s : loop_.handler().sessions()) s->close();
  }
  [[nodiscard]] int opened() const { return loop_.handler().opened; }

  static std::string success(std::uint64_t id, const std::string& result) {
    return R"({"id":)" + std::to_string(id) + R"(,"status":"success","type":"response","result":)" + result +
           "}";
  }

 private:
  struct Handler : net::WsHandler {
    explicit Handler(Script s) : script(std::move(s)) {}
    void onOpen(const std::shared_ptr<net::WsSession>& s) override {
      std::lock_guard lock(mu);
      live.push_back(s);
      ++opened;
    }
    void onClose(const std::shared_ptr<net::WsSession>& s) override {
      std::lock_guard lock(mu);
      std::erase(live, s);
    }
    void onMessage(const std::shared_ptr<net::WsSession>& s, std::string&& text) override {
      rapidjson::Document d;
      d.Parse(text.c_str(), text.size());
      if (d.HasParseError() || !d.IsObject() || !d.HasMember("id") || !d["id"].IsUint64() ||
          !d.HasMember("command"))
        return;
      script(*s, d["id"].GetUint64(), d["command"].GetString(), d);
    }
    std::vector<std::shared_ptr<net::WsSession>> sessions() {
      std::lock_guard lock(mu);
      return live;
    }
    Script script;
    std::mutex mu;
    std::vector<std::shared_ptr<net::WsSession>> live;
    std::atomic<int> opened{0};
  };

  LoopServer<Handler> loop_;
};

}  // namespace sashimono::board::fakes
