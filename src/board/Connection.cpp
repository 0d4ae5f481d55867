#include "sashimono/board/Connection.h"

#include <map>
#include <mutex>

#include "sashimono/board/Requests.h"
#include "sashimono/board/Stream.h"

namespace sashimono::board {

using core::Error;
using core::Result;
using core::Status;

namespace {
// net::WsClient behind the Transport interface. close() destroys the client (its destructor
// closes once and joins the I/O thread) instead of calling WsClient::close(): a second close
// while a close handshake is in flight trips Beast's soft_mutex assertion. Never called from
// the client's own I/O thread (onMessage), which it would join.
class WsTransport : public Transport {
 public:
  explicit WsTransport(std::unique_ptr<net::WsClient> c) : client_(std::move(c)) {}
  ~WsTransport() override { close(); }
  Status send(std::string text) override {
    std::lock_guard lock(mu_);
    if (!client_) return Error("send: connection closed", 0, "closed");
    return client_->send(std::move(text));
  }
  [[nodiscard]] bool isOpen() const override {
    std::lock_guard lock(mu_);
    return client_ && client_->isOpen();
  }
  void close() override {
    std::unique_ptr<net::WsClient> c;
    {
      std::lock_guard lock(mu_);
      c = std::move(client_);
    }
    c.reset();
  }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<net::WsClient> client_;
};

constexpr std::chrono::milliseconds kPollSlice{50};
}  // namespace

TransportFactory webSocketTransport() {
  return [](const std::string& url, const net::ClientOptions& options,
            MessageFn onMessage) -> Result<std::unique_ptr<Transport>> {
    net::ClientOptions o = options;
    o.onMessage = std::move(onMessage);
    auto c = net::WsClient::connect(url, std::move(o));
    if (!c.ok()) return c.error();
    return std::unique_ptr<Transport>(new WsTransport(std::move(*c)));
  };
}

// ---- Router ----

class Connection::Router {
 public:
  explicit Router(StreamFn onStream) : onStream_(std::move(onStream)) {}
  void onMessage(std::string&& text);
  std::shared_ptr<Call> add();
  void remove(std::uint64_t id);
  void failAll();
  std::uint64_t dropped() const;

 private:
  friend class Connection;
  StreamFn onStream_;
  mutable std::mutex mu_;
  std::uint64_t nextId_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Call>> pending_;
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
};

void Connection::Router::onMessage(std::string&& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    std::lock_guard lock(mu_);
    ++dropped_;
    return;
  }
  if (isResponse(doc)) {
    std::shared_ptr<Call> call;
    {
      std::lock_guard lock(mu_);
      auto idIt = doc.FindMember("id");
      if (idIt != doc.MemberEnd() && idIt->value.IsUint64()) {
        auto it = pending_.find(idIt->value.GetUint64());
        if (it != pending_.end()) {
          call = it->second;
          pending_.erase(it);
        }
      }
      if (!call) {
        ++dropped_;
        return;
      }
    }
    std::lock_guard lock(call->mu);
    call->response = std::move(doc);
    call->cv.notify_all();
    return;
  }
  if (onStream_) onStream_(std::move(doc));
}

std::shared_ptr<Connection::Call> Connection::Router::add() {
  auto c = std::make_shared<Call>();
  std::lock_guard lock(mu_);
  if (closed_) return nullptr;
  c->id = nextId_++;
  pending_[c->id] = c;
  return c;
}

void Connection::Router::remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  pending_.erase(id);
}

void Connection::Router::failAll() {
  std::map<std::uint64_t, std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    calls.swap(pending_);
  }
  for (auto& [id, c] : calls) {
    std::lock_guard lock(c->mu);
    c->failed = true;
    c->cv.notify_all();
  }
}

std::uint64_t Connection::Router::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

// ---- Connection ----

Connection::Connection(std::string url, std::shared_ptr<Router> router, std::unique_ptr<Transport> transport)
    : url_(std::move(url)), router_(std::move(router)), transport_(std::move(transport)) {}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url,
                                                     const net::ClientOptions& options,
                                                     const TransportFactory& factory, StreamFn onStream) {
  auto router = std::make_shared<Router>(std::move(onStream));
  auto t = factory(url, options, [router](std::string&& text) { router->onMessage(std::move(text)); });
  if (!t.ok()) return t.error();
  return std::unique_ptr<Connection>(new Connection(url, std::move(router), std::move(*t)));
}

Connection::~Connection() {
  router_->failAll();
  transport_.reset();  // joins the transport's I/O thread: no more onMessage after this
}

Result<std::shared_ptr<Connection::Call>> Connection::start(const std::string& request) {
  auto call = router_->add();
  if (!call) return Error::withCode("closed", "board connection to " + url_ + " is closed");
  std::string text = withId(call->id, request);
  if (text.empty()) {
    router_->remove(call->id);
    return Error::withCode("badRequest", "board request is not a JSON object");
  }
  if (auto st = transport_->send(std::move(text)); !st.ok()) {
    router_->remove(call->id);
    return Error::withCode("closed", "sending to " + url_ + ": " + st.error().message);
  }
  return call;
}

Result<rapidjson::Document> Connection::await(const std::shared_ptr<Call>& call,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(call->mu);
  while (!call->response && !call->failed) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      lock.unlock();
      router_->remove(call->id);
      return Error::withCode("timeout",
                             "no answer from " + url_ + " within " + std::to_string(timeout.count()) + " ms");
    }
    if (!transport_->isOpen()) {
      lock.unlock();
      router_->remove(call->id);
      return Error::withCode("closed", "board connection to " + url_ + " closed while waiting for an answer");
    }
    call->cv.wait_for(lock, std::min<std::chrono::steady_clock::duration>(kPollSlice, deadline - now));
  }
  if (!call->response) return Error::withCode("closed", "board connection to " + url_ + " closed");
  return std::move(*call->response);
}

Result<rapidjson::Document> Connection::call(const std::string& request, std::chrono::milliseconds timeout) {
  auto c = start(request);
  if (!c.ok()) return c.error();
  return await(*c, timeout);
}

bool Connection::isOpen() const { return transport_->isOpen(); }

void Connection::close() {
  router_->failAll();
  transport_->close();
}

std::uint64_t Connection::droppedMessages() const { return router_->dropped(); }

}  // namespace sashimono::board
