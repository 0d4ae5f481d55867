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
// at a time, in order, on one thread of its own that blocks the process's signals. Answers go
// out as the client takes them (an answer may be large: `sync answer`); a client's next request
// is read once its last answer is out.
//
// A dialog verb (`sync to`) starts on that thread, then talks on a thread of its own, which owns
// the client's connection until the dialog's answer; other clients are served meanwhile. A client
// that leaves, sends a bad reply line or none within the dialog timeout is disconnected when
// the dialog ends. stop() makes running dialogs' exchanges fail and waits for them.
//
// listen() replaces a stale socket left by a killed daemon (nobody answers on it), and refuses
// a path where another daemon answers or that is not a socket. The destructor stops the
// thread and removes the socket file, if it is still the one listen() created.
// Thread-safety: start/stop/destruction from one thread.
#include <chrono>
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

  // Serves `protocol` on a thread of its own until stop() (or destruction). A dialog waits at
  // most `dialogTimeout` for each reply of its client.
  [[nodiscard]] core::Status start(ControlProtocol protocol,
                                   std::chrono::milliseconds dialogTimeout = kControlDialogTimeout);
  void stop();

 private:
  struct Impl;
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sashimono::statefs
