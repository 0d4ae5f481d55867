// Connection: id correlation, timeouts, closed transports, garbage — with a hand-driven transport.
#include "sashimono/board/Connection.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "sashimono/board/Requests.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace std::chrono_literals;

namespace {
struct Wire {
  std::mutex mu;
  std::vector<std::string> sent;
  MessageFn deliver;
  std::atomic<bool> open{true};
};

class WireTransport : public Transport {
 public:
  explicit WireTransport(std::shared_ptr<Wire> w) : w_(std::move(w)) {}
  core::Status send(std::string text) override {
    if (!w_->open) return core::Error("closed");
    std::lock_guard lock(w_->mu);
    w_->sent.push_back(std::move(text));
    return {};
  }
  [[nodiscard]] bool isOpen() const override { return w_->open; }
  void close() override { w_->open = false; }

 private:
  std::shared_ptr<Wire> w_;
};

struct Fixture {
  std::shared_ptr<Wire> wire = std::make_shared<Wire>();
  std::vector<std::string> stream;
  std::mutex streamMu;
  std::unique_ptr<Connection> conn;
  Fixture() {
    TransportFactory f = [w = wire](const std::string&, const net::ClientOptions&,
                                    MessageFn fn) -> core::Result<std::unique_ptr<Transport>> {
      w->deliver = std::move(fn);
      return std::unique_ptr<Transport>(new WireTransport(w));
    };
    auto c = Connection::open("ws://wire/", {}, f, [this](rapidjson::Document&& d) {
      std::lock_guard lock(streamMu);
      stream.push_back(d["type"].GetString());
    });
    EXPECT_TRUE(c.ok());
    conn = std::move(*c);
  }
  std::string lastSent() {
    std::lock_guard lock(wire->mu);
    return wire->sent.empty() ? "" : wire->sent.back();
  }
};
}  // namespace

TEST(ConnectionTest, AnswersAreMatchedById) {
  Fixture f;
  auto a = f.conn->start(renderPing());
  auto b = f.conn->start(renderFee());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->id, (*b)->id);
  // Answer b first, with garbage and an unknown id around it.
  f.wire->deliver("garbage{");
  f.wire->deliver(R"({"id":424242,"status":"success","result":{}})");
  f.wire->deliver(R"({"id":)" + std::to_string((*b)->id) + R"(,"status":"success","result":{"which":"b"}})");
  f.wire->deliver(R"({"type":"ledgerClosed","ledger_index":3})");
  f.wire->deliver(R"({"id":)" + std::to_string((*a)->id) + R"(,"status":"success","result":{"which":"a"}})");
  auto rb = f.conn->await(*b, 1000ms);
  auto ra = f.conn->await(*a, 1000ms);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_STREQ((*ra)["result"]["which"].GetString(), "a");
  EXPECT_STREQ((*rb)["result"]["which"].GetString(), "b");
  EXPECT_EQ(f.conn->droppedMessages(), 2u);
  ASSERT_EQ(f.stream.size(), 1u);
  EXPECT_EQ(f.stream[0], "ledgerClosed");
}

TEST(ConnectionTest, TimeoutAndLateAnswer) {
  Fixture f;
  auto c = f.conn->start(renderPing());
  ASSERT_TRUE(c.ok());
  auto r = f.conn->await(*c, 100ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "timeout");
  f.wire->deliver(R"({"id":)" + std::to_string((*c)->id) + R"(,"status":"success","result":{}})");  // dropped
  EXPECT_EQ(f.conn->droppedMessages(), 1u);
}

TEST(ConnectionTest, ClosedWhileWaiting) {
  Fixture f;
  auto c = f.conn->start(renderPing());
  ASSERT_TRUE(c.ok());
  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    f.wire->open = false;
  });
  auto r = f.conn->await(*c, 5000ms);
  closer.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "closed");
  auto again = f.conn->start(renderPing());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "closed");
}

TEST(ConnectionTest, CloseFailsPendingCalls) {
  Fixture f;
  auto c = f.conn->start(renderPing());
  ASSERT_TRUE(c.ok());
  auto fut = std::async(std::launch::async, [&] { return f.conn->await(*c, 5000ms); });
  std::this_thread::sleep_for(50ms);
  f.conn->close();
  auto r = fut.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "closed");
}
