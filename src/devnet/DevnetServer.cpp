#include "sashimono/devnet/DevnetServer.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "sashimono/devnet/Rpc.h"

namespace sashimono::devnet {

namespace asio = boost::asio;

namespace {

using Strand = asio::strand<asio::thread_pool::executor_type>;

class RequestHandler : public net::WsHandler {
 public:
  RequestHandler(Devnet& node, asio::thread_pool& pool) : node_(node), pool_(pool) {}

  void onOpen(const std::shared_ptr<net::WsSession>& s) override {
    auto state = std::make_shared<SessionState>(asio::make_strand(pool_.get_executor()));
    std::lock_guard lock(mu_);
    sessions_[s->id()] = std::move(state);
  }

  void onMessage(const std::shared_ptr<net::WsSession>& s, std::string&& text) override {
    std::shared_ptr<SessionState> state;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(s->id());
      if (it == sessions_.end()) return;
      state = it->second;
    }
    if (state->pending.fetch_add(1) >= DevnetServer::kMaxPendingPerSession) {
      state->pending.fetch_sub(1);
      s->send(renderError({"slowDown", 10, "You are placing too much load on the server.", {}}, nullptr, 1));
      return;
    }
    asio::post(state->strand, [this, s, state, t = std::move(text)] {
      if (!s->isOpen()) {  // dropped or closed meanwhile: skip the work
        state->pending.fetch_sub(1);
        return;
      }
      std::string reply = handleRequest(node_, t, s->isLoopback(), s);
      state->pending.fetch_sub(1);
      s->send(std::move(reply));
    });
  }

  void onClose(const std::shared_ptr<net::WsSession>& s) override {
    node_.subscriptions().remove(s->id());
    std::lock_guard lock(mu_);
    sessions_.erase(s->id());
  }

 private:
  struct SessionState {
    explicit SessionState(Strand s) : strand(std::move(s)) {}
    Strand strand;
    std::atomic<std::size_t> pending{0};
  };
  Devnet& node_;
  asio::thread_pool& pool_;
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<SessionState>> sessions_;
};

}  // namespace

struct DevnetServer::Impl {
  Devnet& node;
  DevnetServerOptions options;
  asio::io_context ioc;
  std::unique_ptr<asio::thread_pool> pool;
  std::shared_ptr<RequestHandler> handler;
  std::unique_ptr<net::WsServer> server;
  std::vector<std::thread> ioThreads;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  Impl(Devnet& n, DevnetServerOptions o) : node(n), options(o) {
    unsigned workers =
        options.workThreads != 0 ? options.workThreads : std::max(1u, std::thread::hardware_concurrency());
    pool = std::make_unique<asio::thread_pool>(workers);
    handler = std::make_shared<RequestHandler>(node, *pool);
    server = std::make_unique<net::WsServer>(ioc, options.ws, handler);
  }
};

DevnetServer::DevnetServer(Devnet& node, DevnetServerOptions options)
    : impl_(std::make_unique<Impl>(node, options)) {}

DevnetServer::~DevnetServer() { stop(); }

core::Result<std::uint16_t> DevnetServer::listen(const std::string& host, std::uint16_t port) {
  auto bound = impl_->server->listen(host, port);
  if (!bound.ok()) return bound.error();
  impl_->work.emplace(impl_->ioc.get_executor());
  unsigned n = std::max(1u, impl_->options.ioThreads);
  for (unsigned i = 0; i < n; ++i) impl_->ioThreads.emplace_back([this] { impl_->ioc.run(); });
  return bound;
}

void DevnetServer::stop() {
  if (!impl_ || !impl_->server) return;
  impl_->server->stop();
  impl_->pool->join();  // finish queued requests (their replies go nowhere once sessions close)
  impl_->work.reset();
  // Let the sessions finish their shutdown, then stop the loop.
  impl_->server->waitClosed(std::chrono::seconds(1));
  impl_->ioc.stop();
  for (auto& t : impl_->ioThreads) t.join();
  impl_->ioThreads.clear();
  impl_->server.reset();
}

}  // namespace sashimono::devnet
