#pragma once
// The contract executor: runs one execution of a dApp contract exactly as
// hotpocket-nodejs-contract@0.7.4 expects (HOTPOCKET-PROTOCOL.md §3), and guarantees that when
// the execution ends every process the contract started is gone.
//
// What the contract gets
//   argv      binPath, binArgs… — execve(2), no PATH search (a relative binPath is relative to cwd).
//   env       exactly ExecRequest::env, nothing inherited.
//   cwd       ExecRequest::cwd (the state directory, so `../patch.cfg` and relative args work).
//   fd 0      stdin: a sealed, read-only-content memfd holding the JSON document of §3.2, read to
//             EOF (works for multi-megabyte documents and for a reader that takes only 4 KiB;
//             never a TTY).
//   fd 1, 2   dup'ed from stdoutFd/stderrFd (/dev/null when -1), preceded by logHeader.
//   fd 3      control_fd: AF_UNIX SOCK_SEQPACKET, packets ≤ 128 KiB → ExecCallbacks::onControl.
//   fd 4      user_in_fd: a sealed, seekable memfd with every input; offsets are absolute.
//   fd 5      npl_fd (consensus runs only): AF_UNIX SOCK_SEQPACKET, packets ≤ 128 KiB.
//   fd 5/6…   one AF_UNIX SOCK_STREAM socket per user, in request order; the contract writes
//             frames = 4-byte big-endian length ‖ payload. They are read while the contract runs,
//             reassembled across reads and kept in order.
//   No other descriptor, no capabilities, PR_SET_NO_NEW_PRIVS, oom_score_adj 1000, no
//   controlling terminal, default signal dispositions and an empty signal mask. Writes to a
//   closed user socket fail with EPIPE (and raise SIGPIPE unless the contract ignores it, as
//   Node does).
//
// Isolation
//   The executor's own thread clones an init process (our code, never exec'ed) into a new PID
//   namespace and a new, private mount namespace. Init dies with that thread (PR_SET_PDEATHSIG),
//   mounts a private /proc (the contract sees only its own namespace: it cannot name, signal or
//   ptrace anything outside), optionally remounts readOnlyDir read-only (recursively, inside the
//   execution only), then forks the contract as pid 2, reports the exec result and reaps. When
//   pid 2 exits, init passes its wait status back over a pipe and exits; the kernel then kills
//   every other process of the namespace (daemons, fork bombs) before init is reaped, so when
//   wait() returns nothing the contract started is left. Timeout or kill() → SIGKILL to init
//   (through a pidfd), with the same effect.
//   Contract: setgroups(0)/setgid/setuid when uid/gid are set, rlimits, bounding/ambient and all
//   capability sets cleared, so even a contract left as uid 0 holds no capability (cannot
//   unmount the private /proc).
//
// Privilege needed
//   kPidNamespace (preferred): CAP_SYS_ADMIN in the caller's user namespace (host root, or
//   container root of a rootless container), plus CAP_SETUID/CAP_SETGID for uid/gid.
//   kUserAndPidNamespace (fallback, e.g. an unprivileged developer running `sashimono dev`):
//   when CLONE_NEWPID is refused (EPERM), the init also gets a new user namespace mapping only
//   the caller's own uid/gid (setgroups denied); uid/gid requests are then an error.
//   If both are refused, start() fails with an error saying so; there is no weaker mode. The
//   private /proc is not optional either: where a new procfs may not be mounted (a container
//   whose /proc has locked, masked submounts), start() fails ("mounting a private /proc").
//   The contract's cgroup is the caller's: CPU/memory/pids of the whole tenant are the host's
//   cgroup limits; the rlimits above are per execution.
//
// Failures: start() returns an error for a bad request, for any setup step between clone and
// execve (the message names the step, errnum is its errno, e.g. execve → ENOENT), and when the
// run ended (timeout, kill) before the contract was exec'ed. A contract that starts and then
// fails is a result (exitCode/signal), not an error. HP's forceTerminate ends the Node
// library's process with SIGINT: signal == SIGINT is a normal end for such contracts.
//
// Threads: one thread per Execution reads outputs, runs the callbacks and writes NPL messages
// (callbacks may call deliverNpl() and kill(), not wait(); they may run before start() returns).
// deliverNpl() and kill() are thread-safe; wait() is to be called once, from one thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::runtime {

inline constexpr std::size_t kMaxSeqPacket = 128 * 1024;               // NPL and control packets
inline constexpr std::uint64_t kMaxOutputFrame = 64ull * 1024 * 1024;  // absolute, per user frame
inline constexpr std::size_t kMaxQueuedNplBytes = 64 * 1024 * 1024;    // deliverNpl backlog cap

struct ExecLimits {
  std::uint64_t cpuSeconds = 0;               // RLIMIT_CPU (0 = none)
  std::uint64_t memBytes = 0;                 // RLIMIT_DATA (0 = none)
  std::uint64_t openFiles = 0;                // RLIMIT_NOFILE (0 = inherit)
  std::uint64_t processes = 0;                // RLIMIT_NPROC (0 = none); counts per uid (per user namespace)
  std::uint64_t userOutputBytes = 0;          // payload bytes per user per execution (0 = none): a frame
                                              // over the rest closes that user's socket (later writes
                                              // fail with EPIPE); the messages before it are kept
  std::uint64_t nplOutputBytes = 0;           // per execution (0 = none): over it the NPL fd is closed
  std::chrono::milliseconds timeout{300000};  // wall clock from start (≤ 0 = none); then
                                              // everything is SIGKILLed and timedOut is set
};

struct ExecUser {
  std::string pubkeyHex;  // "ed" + 64 lowercase hex
  std::vector<core::Bytes> inputs;
};

enum class Isolation { kPidNamespace, kUserAndPidNamespace };

struct ExecRequest {
  std::string binPath;                                   // execve'd as is (no PATH search)
  std::vector<std::string> binArgs;                      // argv[1…]
  std::vector<std::pair<std::string, std::string>> env;  // the whole environment
  std::string cwd;                                       // absolute: the contract's state directory
  std::string readOnlyDir;     // absolute, optional: remounted read-only (recursively) inside the
                               // execution only — read requests (usually cwd's parent, the fs root)
  std::string readOnlySource;  // absolute, optional (needs readOnlyDir): bound over readOnlyDir first
                               // — a read-only view of the committed state (read requests)
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  ExecLimits limits;

  // The stdin document (sheet §3.2); the executor adds the fd numbers.
  std::string hpVersion = "0.6.4";
  std::string contractId;
  std::string publicKeyHex;
  std::string privateKeyHex;  // empty → sent as "" (the contract gets the key only if configured)
  std::uint64_t timestamp = 0;
  bool readonly = false;
  std::optional<std::uint64_t> lclSeqNo;  // required when !readonly; ignored otherwise
  std::string lclHashHex;                 // consensus runs only
  std::vector<ExecUser> users;            // in the caller's order; each gets an output socket
  std::vector<std::pair<std::string, std::uint64_t>> unl;  // hexpk → active_on (ms)

  int stdoutFd = -1;      // the contract's stdout/stderr are dup'ed from these (-1 → /dev/null);
  int stderrFd = -1;      // the caller keeps ownership
  std::string logHeader;  // if non-empty, written to both before the contract starts
};

struct ExecResult {
  int exitCode = -1;  // the contract's (pid 2) exit code; -1 when it did not exit by itself
  int signal = 0;     // the signal that ended it (SIGKILL after a timeout or kill())
  bool timedOut = false;
  // Per user, in request order: (hexpk, messages in write order).
  std::vector<std::pair<std::string, std::vector<core::Bytes>>> outputs;
  std::chrono::microseconds duration{};
};

struct ExecCallbacks {
  // Each non-empty packet (≤ 128 KiB) the contract sent on npl_fd; on the executor's thread.
  std::function<void(core::Bytes)> onNpl;
  // Each control packet (JSON text, ≤ 128 KiB); on the executor's thread.
  std::function<void(std::string)> onControl;
};

// One running execution. The destructor kills it and reaps everything.
class Execution {
 public:
  // Validates the request, prepares every descriptor, starts the init and returns once the
  // contract was exec'ed (an exec or setup failure is the error, with errno and stage).
  static core::Result<std::unique_ptr<Execution>> start(const ExecRequest& req, ExecCallbacks cb = {});

  ~Execution();
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // Thread-safe. Queued and written as two packets back-to-back (the 66-char sender hexpk, then
  // data), never interleaved with another message. Dropped when: read-only run, the NPL fd was
  // closed, the execution ended, senderHex is not a hexpk, data is empty or over 128 KiB, or the
  // backlog exceeds kMaxQueuedNplBytes.
  void deliverNpl(const std::string& senderHex, core::Bytes data);

  // Blocks until the contract and every process it started are gone; returns the result (its
  // outputs are moved out: call once).
  ExecResult wait();

  // Thread-safe, idempotent: SIGKILLs the whole execution (wait() still returns the outputs
  // gathered so far).
  void kill();

  // Which isolation this execution got (kUserAndPidNamespace only without CAP_SYS_ADMIN).
  [[nodiscard]] Isolation isolation() const;

 private:
  struct State;
  explicit Execution(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// start() then wait().
core::Result<ExecResult> execute(const ExecRequest& req, ExecCallbacks cb = {});

}  // namespace sashimono::runtime
