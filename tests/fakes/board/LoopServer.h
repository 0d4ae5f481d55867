#pragma once
// The socket side of the fake boards (ScriptedBoard, HostileProxy): a net::WsServer on 127.0.0.1
// (any free port) whose io_context runs on a thread of its own, serving `Handler`. Destroyed, it
// stops the server, lets the loop run the sessions' onClose (up to 5 s), then stops the loop.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "sashimono/net/WsServer.h"

namespace sashimono::board::fakes {

template <typename Handler>
class LoopServer {
 public:
  // `who` names the fake in the error thrown when it cannot listen.
  LoopServer(std::shared_ptr<Handler> handler, const std::string& who) : handler_(std::move(handler)) {
    server_ = std::make_unique<net::WsServer>(ioc_, net::ServerOptions{}, handler_);
    auto p = server_->listen("127.0.0.1", 0);
    if (!p.ok()) throw std::runtime_error(who + ": " + p.error().message);
    port_ = *p;
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~LoopServer() {
    server_->stop();
    work_.reset();
    // The handler holds its sessions until their onClose, which runs on the loop: let it run.
    server_->waitClosed(std::chrono::seconds(5));
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  LoopServer(const LoopServer&) = delete;
  LoopServer& operator=(const LoopServer&) = delete;

  [[nodiscard]] std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/"; }
  [[nodiscard]] Handler& handler() const { return *handler_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::shared_ptr<Handler> handler_;
  std::unique_ptr<net::WsServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace sashimono::board::fakes
