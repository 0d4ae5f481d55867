#pragma once
// Running programs without a shell: an argument vector, an explicit environment, optionally as
// another user and inside given cgroups (joined by the child before exec, so the program never
// runs outside them). Implementations are thread-safe; the Linux one only uses
// async-signal-safe calls between fork and exec.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ProcessSpec {
  std::vector<std::string> argv;         // argv[0]: absolute path, or a name looked up in kSafePath
  std::vector<std::string> env;          // the whole environment (KEY=VALUE)
  std::optional<Credentials> as;         // drop to this user (no supplementary groups)
  std::vector<std::string> cgroupProcs;  // cgroup.procs files the child joins before exec
  std::string cwd = "/";
  // Start in a new, private mount namespace (as root, before dropping privileges) from which
  // these mount points are detached: a tenant's daemons never hold other tenants' mounts.
  bool newMountNamespace = false;
  std::vector<std::string> detachMounts;
  std::string logFile;                       // detached only: stdout+stderr appended here (opened as `as`)
  std::chrono::milliseconds timeout{30000};  // run() only: killed (SIGKILL) after this
};

struct ProcessResult {
  int exitCode = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  [[nodiscard]] bool success() const { return exitCode == 0; }
  // "exit 3: <first line of stderr>" for error messages.
  [[nodiscard]] std::string describe() const;
};

inline constexpr const char* kSafePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion (or timeout), capturing stdout and stderr. Returns once the direct child
  // has exited, even if a daemonized grandchild keeps the pipes open.
  virtual core::Result<ProcessResult> run(const ProcessSpec& spec) = 0;
  // Starts a detached daemon (new session, reparented to init, stdin /dev/null, output to
  // spec.logFile or /dev/null). Returns its pid once exec succeeded.
  virtual core::Result<pid_t> spawnDetached(const ProcessSpec& spec) = 0;
};

std::unique_ptr<ProcessRunner> makeLinuxProcessRunner();

// Runs spec and turns a non-zero exit into an Error naming the program.
core::Result<ProcessResult> runChecked(ProcessRunner& runner, const ProcessSpec& spec);

}  // namespace sashimono::host
