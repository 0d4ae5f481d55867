#pragma once
// ControlServer: the unix stream socket a state filesystem daemon answers control requests on
// (ControlProtocol lines). It is the channel the runtime uses and the contract cannot reach:
//  - the socket file is created with mode 0600, owned by the daemon's user (who must own the
//    directory it is in, and that directory must not be writable by others);
//  - a peer whose uid (SO_PEERCRED) is neither the daemon's nor root is answered
//    "error not allowed" and disconnected, should the file's mode ever be loosened;
//  - a request line longer than kControlMaxLine or holding non-text bytes is answered with an
//    error and the client is disconnected; a client never stops the daemon.
// A few clients at a time (kControlMaxClients; more are told "error busy"), served one request
// at a time, in order, on one thread of its own that blocks the process's signals.
//
// listen() replaces a stale socket left by a killed daemon (nobody answers on it), and refuses
// a path where another daemon answers or that is not a socket. The destructor stops the
// thread and removes the socket file, if it is still the one listen() created.
// Thread-safety: start/stop/destruction from one thread.
#include <memory>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/ControlProtocol.h"

namespace sashimono::statefs {

inline constexpr std::size_t kControlMaxClients = 4;

class ControlServer {
 public:
  [[nodiscard]] static core::Result<std::unique_ptr<ControlServer>> listen(const std::string& path);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Serves `protocol` on a thread of its own until stop() (or destruction).
  [[nodiscard]] core::Status start(ControlProtocol protocol);
  void stop();

 private:
  struct Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sashimono::statefs
