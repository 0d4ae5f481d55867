#pragma once
// The cluster consensus's link (ClusterConsensus.h's PeerLink) over the member's PeerNetwork.
#include "sashimono/runtime/ClusterConsensus.h"
#include "sashimono/runtime/PeerNetwork.h"

namespace sashimono::runtime {

class NetworkLink final : public PeerLink {
 public:
  explicit NetworkLink(PeerNetwork& n) : n_(n) {}
  bool send(const PubKey& to, const PeerMessage& m) override { return n_.send(to, m); }
  void broadcast(const PeerMessage& m) override { (void)n_.broadcast(m); }
  void drain(std::chrono::microseconds max) override { (void)n_.drain(max); }

 private:
  PeerNetwork& n_;
};

}  // namespace sashimono::runtime
