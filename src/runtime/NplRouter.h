#pragma once
// NPL between the members of a cluster (fact sheet 3.5, docs/CLUSTER.md "npl"): what a member's
// contract sends in the round on last ledger L is signed with L and broadcast; a member delivers
// a message to its own contract only while the execution of the same round (on L) runs. Hot
// Pocket drops messages that arrive before their round's execution starts; here a message for one
// of the next kNplEarlyRounds rounds is kept (bounded) and delivered when that execution starts,
// so a member whose contract starts a little later than another's still hears it.
//
// Thread-safety: all members may be called from any thread.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "sashimono/runtime/Executor.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

inline constexpr std::uint64_t kNplEarlyRounds = 4;
inline constexpr std::size_t kNplEarlyBytesPerMember = std::size_t{8} << 20;
inline constexpr std::size_t kNplEarlyBytes = std::size_t{32} << 20;

class NplRouter {
 public:
  NplRouter(std::string contractId, const InstanceKey& key) : contractId_(std::move(contractId)), key_(key) {}

  // The execution of the round on last ledger `lclSeq` is about to start: messages for it are kept
  // from now on, older ones dropped. Then attach() once it started (the contract may send before).
  void begin(std::uint64_t lclSeq);
  // The execution started: what was kept for it is delivered now. `exec` stays valid until end().
  void attach(Execution* exec);
  // The execution ended (nothing more is delivered to it).
  void end();
  // The member's last ledger is now `lclSeq` (a round closed, or the engine started): messages
  // for earlier rounds are dropped.
  void setLcl(std::uint64_t lclSeq);
  // This member's own message, to its running contract (Hot Pocket delivers it to itself too).
  void deliverOwn(const PubKey& self, core::Bytes data);
  // A member's message; `from` is the key the transport authenticated.
  void received(const PubKey& from, const Npl& m);
  // This member's contract sent `data` in the round on `lclSeq`: the signed message for the
  // members (the caller broadcasts it, and hands the data to deliverOwn).
  [[nodiscard]] Npl sign(std::uint64_t lclSeq, core::Bytes data) const;

  struct Counts {
    std::uint64_t delivered = 0, kept = 0, dropped = 0, refused = 0;
  };
  [[nodiscard]] Counts counts() const;

 private:
  struct Early {
    PubKey from{};
    std::uint64_t lclSeq = 0;
    core::Bytes data;
  };
  void deliverLocked(const PubKey& from, core::Bytes data);

  const std::string contractId_;
  const InstanceKey& key_;
  mutable std::mutex mu_;
  Execution* running_ = nullptr;
  std::uint64_t lcl_ = 0;  // the member's last ledger (the running execution's)
  std::deque<Early> early_;
  std::size_t earlyBytes_ = 0;
  Counts counts_;
};

}  // namespace sashimono::runtime
