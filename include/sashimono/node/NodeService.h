#pragma once
// The running host node: a board::BoardClient feeding a Node on the node's own thread.
//
// The board's worker thread only queues deliveries (transactions, finished ledgers, connection
// changes); the node thread takes them in order and runs Node::onTransaction / onLedgerFinished,
// and every tickInterval Node::tick, Node::pumpOutbox and the status row. Blocking work
// (sqlite, provisioning) therefore never runs on the board's thread.
//
// A failure to record (store error) stops the node (fatal(): true): nothing is acknowledged that
// was not recorded, and a restart resumes from the store.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "sashimono/board/BoardClient.h"
#include "sashimono/core/Log.h"
#include "sashimono/core/Metrics.h"
#include "sashimono/node/BoardClientPort.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/Node.h"

namespace sashimono::node {

struct ServiceOptions {
  std::chrono::milliseconds tickInterval{500};
  std::chrono::milliseconds requestTimeout{10000};
  bool verifyPeer = true;
  // The registry the node counts into (NodeMetrics.h); null: one of its own.
  std::shared_ptr<core::MetricsRegistry> metrics;
  // The recent warnings and errors written into the status row; null: none.
  std::shared_ptr<core::RecentProblems> problems;
};

class NodeService {
 public:
  // References must outlive the service.
  NodeService(const HostConfig& config, NodeStore& store, ProvisionerPort& provisioner,
              const crypto::KeyPair& hostKey, const lease::Clock& clock, ServiceOptions options = {},
              NodeOptions nodeOptions = {});
  ~NodeService();
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // Node::start, then the board from the stored cursor, then the node thread.
  [[nodiscard]] core::Status start();
  // The node thread finishes the deliveries in hand (and sends the replies they made), then the
  // board stops and the store's log is checkpointed into its file.
  void stop();
  // A new offer (a reloaded configuration), taken by the node thread between deliveries.
  void reconfigure(const lease::Offer& offer);
  // New fee limits (a reloaded configuration), taken the same way.
  void setFeeLimits(const FeeLimits& limits);
  [[nodiscard]] core::MetricsRegistry& metrics() const { return *metrics_; }
  [[nodiscard]] bool fatal() const;
  [[nodiscard]] std::string fatalError() const;
  [[nodiscard]] board::BoardStatus boardStatus() const { return board_->status(); }

  // Builds the node's options from a config.
  static NodeOptions nodeOptionsFrom(const HostConfig& config, NodeOptions base = {});

 private:
  struct Tx {
    board::BoardTx tx;
  };
  struct Finished {
    std::uint32_t ledger;
  };
  struct Reconfigure {
    lease::Offer offer;
  };
  using Event = std::variant<Tx, Finished, Reconfigure, FeeLimits>;
  void run();
  void fail(const core::Error& e);
  std::string boardJson() const;
  std::string problemsJson() const;
  void observeBoard();

  const HostConfig& config_;
  NodeStore& store_;
  ServiceOptions options_;
  std::unique_ptr<board::BoardClient> board_;
  std::unique_ptr<BoardClientPort> port_;
  std::unique_ptr<Node> node_;
  const lease::Clock& clock_;
  std::shared_ptr<core::MetricsRegistry> metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  bool fatal_ = false;
  std::string fatalError_;
  std::thread thread_;
};

}  // namespace sashimono::node
