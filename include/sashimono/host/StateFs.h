#pragma once
// Launching the tenant's state filesystem: `sashimono statefs mount` run as the tenant user,
// inside the tenant cgroup, before the tenant's rootlesskit (a mount made later would not
// propagate into rootlesskit's mount namespace). The program daemonizes once the mount is live.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ProcessRunner.h"

namespace sashimono::host {

struct StateFsMount {
  std::string source;      // the tenant's state directory (backing store)
  std::string mountPoint;  // what is bind-mounted into the container
  Credentials as;
  std::string tree;                    // --tree: the persisted hash tree (empty: none)
  std::string control;                 // --control: the control socket (empty: none)
  std::optional<Credentials> present;  // --owner: the owner the mount shows for the daemon's files
  std::vector<std::string> cgroupProcs;
  std::string undo;   // --undo: the undo log of rounds (empty: none)
  std::string views;  // --views: the read-only views mount (needs undo; empty: none)
  std::string log;    // --log: the daemon's output once mounted (empty: none)
};

class StateFs {
 public:
  virtual ~StateFs() = default;
  virtual core::Status mount(const StateFsMount& m) = 0;
  // Lazily unmounts (as root); ok when not mounted.
  virtual core::Status unmount(const std::string& mountPoint) = 0;
};

// The readahead window the host gives a state filesystem mount (and its views): FUSE reads are
// one request per readahead window, and the kernel's default for a FUSE mount is 128 KiB, which
// only root can raise. 512 KiB reads a file through the mount about 1.5× as fast; 1 MiB is
// slower again (a 1 MiB reply no longer fits the daemon's 1 MiB pipe; docs/PERFORMANCE.md).
inline constexpr unsigned kStateFsReadaheadKiB = 512;

// Sets the readahead window of the filesystem mounted at `mountPoint` (its backing device's
// /sys/class/bdi/MAJ:MIN/read_ahead_kb; root only).
core::Status setReadahead(const std::string& mountPoint, unsigned kib);

// command: the program and leading arguments, e.g. {"/usr/bin/sashimono", "statefs", "mount"};
// "--source S --mountpoint M --allow-other" are appended, then --tree, --control, --owner, --undo
// and --views when set. After the mount (and the views mount) are live, their readahead is raised
// to kStateFsReadaheadKiB; a failure to do so is logged, not an error.
std::unique_ptr<StateFs> makeStateFsLauncher(ProcessRunner& runner, std::vector<std::string> command);

}  // namespace sashimono::host
