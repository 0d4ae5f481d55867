// `sashimono statefs mount|unmount|hash`: the tenant state filesystem (see docs/STATEFS.md).
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "Command.h"
#include "StatefsHash.h"
#include "StatefsRounds.h"
#include "sashimono/core/Log.h"
#include "sashimono/statefs/ControlServer.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/PassthroughBackend.h"
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/StateFs.h"
#include "sashimono/statefs/TreeStore.h"

namespace sashimono::cli {

namespace {

constexpr const char* kCmd = "statefs";
constexpr int kReadyTimeoutMs = 30000;

constexpr const char* kNotes =
    "\n"
    "mount     serves DIR (--source) at --mountpoint as a passthrough FUSE filesystem that\n"
    "          keeps the hash tree of the state (built at mount time).\n"
    "          Without --foreground it returns once the mount is usable, printing the\n"
    "          daemon's pid on stdout (exit 0), or fails with a message (exit 1).\n"
    "          SIGTERM/SIGINT or `fusermount3 -u` unmount it and end the daemon.\n"
    "          --allow-other lets other users in (the kernel enforces file modes).\n"
    "          --control SOCKET answers `ping`, `root` (the state hash), `commit`, and with\n"
    "          --undo `begin`, `rollback`, `status` (and `view`) on a unix socket only the\n"
    "          daemon's user may use (docs/STATEFS.md).\n"
    "          --undo DIR keeps the undo log of rounds there (on the state's filesystem,\n"
    "          outside it): `begin`, `commit`, `rollback` over the control socket. A round\n"
    "          a stopped daemon left open is kept, with --control, for its owner to commit\n"
    "          or roll back (changes are refused until then); without, rolled back.\n"
    "          --views DIR (with --undo) mounts read-only views of the committed state\n"
    "          there: `view open` answers an id (DIR/ID) and its root; `view close ID`.\n"
    "          --tree FILE loads the persisted tree (TreeStore) instead of hashing everything\n"
    "          (verifying it after an unclean stop) and saves it at a clean unmount.\n"
    "          --owner UID:GID shows the daemon's files as owned by UID:GID; a chown through\n"
    "          the mount to any other owner is refused (EPERM).\n"
    "          --log FILE: the daemon's output once mounted is appended there (else discarded).\n"
    "unmount   unmounts a FUSE mount (lazily if busy); succeeds when nothing is mounted.\n"
    "hash      prints the state hash of DIR (64 hex), computed from scratch; --json prints\n"
    "          {\"root\", \"entries\": [{name, kind, mode, size, hash}]} for its top level.\n"
    "          --tree FILE loads the persisted tree at FILE instead (verifying it after an\n"
    "          unclean stop) and saves it back.\n";

struct StatefsArgs {
  std::string source;
  std::string mountpoint;
  std::string control;  // the control socket, empty for none
  std::string tree;     // the persisted tree (TreeStore), empty for none
  std::string owner;    // UID:GID presented for the daemon's files, empty for none
  std::string undo;     // the undo directory (rounds), empty for none
  std::string views;    // where views are mounted, empty for none
  std::string log;      // the daemon's output once it is mounted, empty for none (/dev/null)
  bool allowOther = false;
  bool foreground = false;
};

// Library errors start with "statefs: "; the command prefixes "sashimono statefs: " already.
std::string bare(std::string msg) { return msg.rfind("statefs: ", 0) == 0 ? msg.substr(9) : msg; }

bool canonicalDir(const std::string& p, std::string& out, std::string& err) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) {
    err = p + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
    err = p + ": not a directory";
    return false;
  }
  out = buf;
  return true;
}

bool within(const std::string& inner, const std::string& outer) {
  return inner == outer || outer == "/" || inner.rfind(outer + "/", 0) == 0;
}

void writeAll(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

struct OpenedTree {
  statefs::StateTree tree;
  std::optional<statefs::TreeStore> store;  // with --tree: saved at a clean unmount
};

// The one place a mount's hash tree comes from: built from scratch, or loaded from the store
// at `treeFile` (verified after an unclean stop; progress logged every few seconds).
core::Result<OpenedTree> openStateTree(const std::string& source, const std::string& treeFile) {
  if (treeFile.empty()) {
    auto built = statefs::StateTree::build(source);
    if (!built.ok()) return built.error();
    return OpenedTree{std::move(built).value(), std::nullopt};
  }
  auto last = std::chrono::steady_clock::now();
  auto progress = [&last](std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(5)) return;
    last = now;
    spdlog::info("statefs: loading the tree: {} of {} MiB read", done >> 20, total >> 20);
  };
  auto loaded = statefs::TreeStore::load(source, treeFile, progress);
  if (!loaded.ok()) return loaded.error();
  spdlog::info("statefs: tree {}: {}", treeFile, statefs::describe(loaded->report));
  return OpenedTree{std::move(loaded->tree), std::move(loaded->store)};
}

// At a clean unmount: the tree, complete, into its store; marked clean unless a round is open
// (the next mount may roll it back, which changes the state behind the stored tree).
core::Status saveTree(statefs::HashingBackend& backend, std::optional<statefs::TreeStore>& store,
                      const StatefsRounds& rounds) {
  if (!store) return {};
  const bool clean = !rounds.rounds || !rounds.rounds->inRound();
  auto st = backend.withTree([&](statefs::StateTree& t) { return store->save(t, clean); });
  if (!st.ok()) return st.error().context("statefs: saving the tree");
  return {};
}

// Starts answering control requests at `path` (nothing when it is empty); commits save the tree
// into `store` (mountControl).
core::Status startControl(const std::string& path, statefs::HashingBackend& state, StatefsRounds& rounds,
                          std::optional<statefs::TreeStore>& store,
                          std::unique_ptr<statefs::ControlServer>& out) {
  if (path.empty()) return {};
  auto server = statefs::ControlServer::listen(path);
  if (!server.ok()) return server.error();
  SASHI_TRY((*server)->start(mountControl(state, rounds, store ? &*store : nullptr, rounds.stateDir)));
  out = std::move(server).value();
  return {};
}

// The daemon side: serve, report readiness (or the error) on `reportFd`, detach stdio.
int runDaemon(const statefs::MountOptions& opts, statefs::HashingBackend& backend, StatefsRounds& rounds,
              const std::string& control, std::optional<statefs::TreeStore>& store, int reportFd,
              const std::string& log) {
  std::unique_ptr<statefs::ControlServer> server;  // listening before the mount is reported ready
  auto started = rounds.startViews();              // the views are usable before the mount is reported
  if (started.ok()) started = startControl(control, backend, rounds, store, server);
  if (auto st = started; !st.ok()) {
    writeAll(reportFd, "error: " + st.error().message + "\n");
    ::close(reportFd);
    return 1;
  }
  bool reported = false;
  auto st = statefs::serve(opts, backend, [&](const core::Status& s) {
    if (s.ok()) {
      int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      // --log: appended to (made 0600 if missing, its directory 0700; never through a link).
      int out = -1;
      if (!log.empty()) {
        const auto slash = log.rfind('/');
        if (slash != std::string::npos && slash > 0) ::mkdir(log.substr(0, slash).c_str(), 0700);
        out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
      }
      if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(out >= 0 ? out : devnull, 1);
        ::dup2(out >= 0 ? out : devnull, 2);
        ::close(devnull);
      }
      if (out >= 0) ::close(out);
      writeAll(reportFd, "ok\n");
    } else {
      writeAll(reportFd, "error: " + s.error().message + "\n");
    }
    ::close(reportFd);
    reported = true;
  });
  rounds.stopViews();  // the child ends with exit(): no destructor would
  if (!reported) {
    writeAll(reportFd,
             "error: " +
                 (st.ok() ? std::string("statefs: unmounted before it became usable") : st.error().message) +
                 "\n");
    ::close(reportFd);
  }
  if (st.ok() && reported)
    if (auto saved = saveTree(backend, store, rounds); !saved.ok())
      spdlog::error("{}", saved.error().message);
  return st.ok() && reported ? 0 : 1;
}

// Forks; the child mounts and serves; the parent returns once the child reports.
int daemonize(const statefs::MountOptions& opts, statefs::HashingBackend& backend, StatefsRounds& rounds,
              const std::string& control, std::optional<statefs::TreeStore>& store, const std::string& log) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return failure(kCmd, std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();
  if (pid < 0) return failure(kCmd, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(p[0]);
    ::setsid();
    if (::chdir("/") != 0) { /* paths are absolute; nothing depends on the cwd */
    }
    std::exit(runDaemon(opts, backend, rounds, control, store, p[1], log));
  }
  ::close(p[1]);
  std::string msg;
  char buf[512];
  while (true) {
    struct pollfd pfd {
      p[0], POLLIN, 0
    };
    int r = ::poll(&pfd, 1, kReadyTimeoutMs);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      ::kill(pid, SIGTERM);
      ::close(p[0]);
      return failure(kCmd, "mount did not become usable within 30 s; stopped daemon " + std::to_string(pid));
    }
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  if (msg == "ok\n") {
    std::cout << pid << "\n" << std::flush;
    // The tree store's sqlite connection now belongs to the daemon: closing it here too (the
    // destructors of a normal return) could checkpoint or remove its files under the daemon.
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (msg.rfind("error: ", 0) == 0) msg = msg.substr(7);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  return failure(kCmd, msg.empty() ? "daemon exited before the mount became usable" : bare(msg));
}

int runMount(StatefsArgs a) {
  if (a.source.empty() || a.mountpoint.empty())
    return usageError(kCmd, "mount: --source and --mountpoint are required");
  auto& source = a.source;
  auto& mountpoint = a.mountpoint;
  std::string err;
  statefs::MountOptions opts;
  opts.allowOther = a.allowOther;
  if (!canonicalDir(source, source, err)) return failure(kCmd, "source " + err);
  if (!canonicalDir(mountpoint, opts.mountpoint, err)) return failure(kCmd, "mountpoint " + err);
  if (within(opts.mountpoint, source) || within(source, opts.mountpoint)) {
    return usageError(kCmd, "mount: source and mountpoint must not contain each other");
  }
  std::string control;
  if (!a.control.empty()) {
    // Absolute (the daemon works from /), in an existing directory, outside the state.
    const auto slash = a.control.rfind('/');
    std::string dirOf = slash == std::string::npos ? "." : slash == 0 ? "/" : a.control.substr(0, slash);
    if (slash == a.control.size() - 1) return usageError(kCmd, "mount: --control must name a socket file");
    if (!canonicalDir(dirOf, dirOf, err)) return failure(kCmd, "control socket directory " + err);
    control = (dirOf == "/" ? "" : dirOf) + "/" + a.control.substr(slash + 1);
    if (within(control, source) || within(control, opts.mountpoint))
      return usageError(kCmd, "mount: the control socket must be outside the source and the mountpoint");
  }
  std::string undoDir, viewsDir;
  if (!a.views.empty()) {
    if (a.undo.empty()) return usageError(kCmd, "mount: --views needs --undo");
    if (!canonicalDir(a.views, viewsDir, err)) return failure(kCmd, "views " + err);
    if (within(viewsDir, source) || within(source, viewsDir) || within(viewsDir, opts.mountpoint) ||
        within(opts.mountpoint, viewsDir))
      return usageError(kCmd, "mount: the views directory must be outside the source and the mountpoint");
  }
  if (!a.undo.empty()) {
    // Checked before anything is created: its parent must exist; it may not (UndoLog makes it).
    std::string u = a.undo;
    while (u.size() > 1 && u.back() == '/') u.pop_back();
    const auto slash = u.rfind('/');
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : u.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? u : u.substr(slash + 1);
    if (leaf.empty() || leaf == "." || leaf == "..")
      return usageError(kCmd, "mount: --undo must name a directory");
    if (!canonicalDir(parent, parent, err)) return failure(kCmd, "undo dir " + err);
    undoDir = (parent == "/" ? "" : parent) + "/" + leaf;
    if (within(undoDir, source) || within(source, undoDir) || within(undoDir, opts.mountpoint) ||
        within(opts.mountpoint, undoDir))
      return usageError(kCmd, "mount: the undo directory must be outside the source and the mountpoint");
  }
  auto dir = statefs::SourceDir::open(source);
  if (!dir.ok()) return failure(kCmd, bare(dir.error().message));
  statefs::PassthroughBackend passthrough(std::move(dir).value());
  if (!a.owner.empty()) {
    auto o = statefs::parseOwner(a.owner);
    if (!o) return usageError(kCmd, "mount: --owner must be UID:GID");
    opts.owner = statefs::OwnerMap{::geteuid(), ::getegid(), o->first, o->second};
  }
  std::string treeFile;
  if (!a.tree.empty()) {
    const auto slash = a.tree.rfind('/');
    std::string dirOf = slash == std::string::npos ? "." : slash == 0 ? "/" : a.tree.substr(0, slash);
    if (slash == a.tree.size() - 1) return usageError(kCmd, "mount: --tree must name a file");
    if (!canonicalDir(dirOf, dirOf, err)) return failure(kCmd, "tree directory " + err);
    treeFile = (dirOf == "/" ? "" : dirOf) + "/" + a.tree.substr(slash + 1);
    if (within(treeFile, source) || within(treeFile, opts.mountpoint))
      return usageError(kCmd, "mount: the tree file must be outside the source and the mountpoint");
  }
  StatefsRounds rounds;
  rounds.stateDir = source;
  opts.notifier = &rounds.notifier;
  rounds.allowOther = a.allowOther;
  rounds.owner = opts.owner;
  // Before the tree is loaded: a round a stopped daemon left open is rolled back on disk first,
  // or, with a control socket, kept for the owner to decide.
  if (auto st = rounds.open(undoDir, viewsDir, passthrough, !control.empty()); !st.ok())
    return failure(kCmd, bare(st.error().message));
  statefs::StateBackend& below =
      rounds.rounds ? static_cast<statefs::StateBackend&>(*rounds.rounds) : passthrough;
  auto tree = openStateTree(source, treeFile);
  if (!tree.ok()) return failure(kCmd, "hash tree of " + source + ": " + tree.error().message);
  statefs::HashingBackend backend(below, std::move(tree->tree),
                                  [source] { return statefs::StateTree::build(source); });
  auto& store = tree->store;

  if (!a.foreground) return daemonize(opts, backend, rounds, control, store, a.log);
  std::unique_ptr<statefs::ControlServer> server;
  if (auto st = rounds.startViews(); !st.ok()) return failure(kCmd, bare(st.error().message));
  if (auto st = startControl(control, backend, rounds, store, server); !st.ok())
    return failure(kCmd, bare(st.error().message));
  auto st = statefs::serve(opts, backend, [&](const core::Status& s) {
    if (s.ok())
      spdlog::info("statefs: serving {} at {}", source, opts.mountpoint);
    else
      spdlog::error("{}", s.error().message);
  });
  if (!st.ok()) return failure(kCmd, bare(st.error().message));
  if (auto saved = saveTree(backend, store, rounds); !saved.ok())
    return failure(kCmd, bare(saved.error().message));
  return 0;
}

int runUnmount(const StatefsArgs& a) {
  const std::string& mountpoint = a.mountpoint;
  if (mountpoint.empty()) return usageError(kCmd, "unmount: --mountpoint is required");
  auto r = statefs::unmount(mountpoint);
  if (!r.ok()) return failure(kCmd, bare(r.error().message));
  if (!*r) std::cerr << "sashimono statefs: nothing mounted at " << mountpoint << "\n";
  return 0;
}

int runStatefs(const std::vector<std::string>& args) {
  StatefsArgs a;
  const std::vector<OptionSpec> mountOptions{
      {"--source", true, setString(a.source)},         {"--mountpoint", true, setString(a.mountpoint)},
      {"--allow-other", false, setFlag(a.allowOther)}, {"--foreground", false, setFlag(a.foreground)},
      {"--control", true, setString(a.control)},       {"--tree", true, setString(a.tree)},
      {"--owner", true, setString(a.owner)},           {"--undo", true, setString(a.undo)},
      {"--views", true, setString(a.views)},           {"--log", true, setString(a.log)},
  };
  const std::vector<OptionSpec> unmountOptions{{"--mountpoint", true, setString(a.mountpoint)}};
  StatefsHashArgs h;
  const std::vector<OptionSpec> hashOptions{{"--json", false, setFlag(h.json)},
                                            {"--tree", true, setString(h.tree)}};
  const CommandSpec spec{
      .name = kCmd,
      .verbs =
          {
              {.name = "mount",
               .synopsis = "--source DIR --mountpoint DIR [--allow-other] [--foreground] [--control SOCKET]"
                           " [--tree FILE] [--owner UID:GID] [--undo DIR] [--views DIR] [--log FILE]",
               .run = calling(&runMount, a),
               .options = &mountOptions},
              {.name = "unmount",
               .synopsis = "--mountpoint DIR",
               .run = calling(&runUnmount, a),
               .options = &unmountOptions},
              {.name = "hash",
               .args = exactlyOne("DIR"),
               .synopsis = "DIR [--json] [--tree FILE]",
               .run = [&h](const std::vector<std::string>& args) { return runStatefsHash(args[0], h); },
               .options = &hashOptions},
          },
      .notes = kNotes,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar reg{{"statefs", "tenant state filesystem (FUSE): mount, unmount, hash", &runStatefs}};

}  // namespace

}  // namespace sashimono::cli
