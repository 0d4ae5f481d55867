#pragma once
// A test board on a real socket (net::WsServer on 127.0.0.1): each request goes to a script the
// test supplies, which answers (or not) through the session; the test can also push stream
// messages to every open session or drop them all. For failure tests: quiet subscriptions,
// disconnects, forged and duplicate transactions, garbage.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "sashimono/net/WsServer.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::board::fakes {

class ScriptedBoard {
 public:
  // (session, request id, command, the whole request)
  using Script = std::function<void(net::WsSession&, std::uint64_t id, const std::string& command,
                                    const rapidjson::Document& request)>;

  explicit ScriptedBoard(Script script) : handler_(std::make_shared<Handler>(std::move(script))) {
    server_ = std::make_unique<net::WsServer>(ioc_, net::ServerOptions{}, handler_);
    auto p = server_->listen("127.0.0.1", 0);
    if (!p.ok()) throw std::runtime_error("ScriptedBoard: " + p.error().message);
    port_ = *p;
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~ScriptedBoard() {
    server_->stop();
    work_.reset();
    // The handler holds its sessions until their onClose, which runs on the loop: let it run.
    server_->waitClosed(std::chrono::seconds(5));
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ScriptedBoard(const ScriptedBoard&) = delete;
  ScriptedBoard& operator=(const ScriptedBoard&) = delete;

  [[nodiscard]] std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  void broadcast(const std::string& text) {
    for (auto& s : handler_->sessions()) s->send(text);
  }
  void dropAll() {
    for (auto& s : handler_->sessions()) s->close();
  }
  [[nodiscard]] int opened() const { return handler_->opened; }

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

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::shared_ptr<Handler> handler_;
  std::unique_ptr<net::WsServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace sashimono::board::fakes
