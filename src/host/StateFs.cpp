#include "sashimono/host/StateFs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>

#include "sashimono/core/Log.h"

#include "sashimono/host/Disks.h"

namespace sashimono::host {
namespace {

class StateFsLauncher final : public StateFs {
 public:
  StateFsLauncher(ProcessRunner& r, std::vector<std::string> cmd) : runner_(r), command_(std::move(cmd)) {}

  core::Status mount(const StateFsMount& m) override {
    auto mounted = mountsUnder(m.mountPoint);
    if (mounted && std::find(mounted->begin(), mounted->end(), m.mountPoint) != mounted->end()) return {};
    ProcessSpec p;
    p.argv = command_;
    for (const char* a :
         {"--source", m.source.c_str(), "--mountpoint", m.mountPoint.c_str(), "--allow-other"})
      p.argv.emplace_back(a);
    if (!m.tree.empty()) p.argv.insert(p.argv.end(), {"--tree", m.tree});
    if (!m.control.empty()) p.argv.insert(p.argv.end(), {"--control", m.control});
    if (m.present)
      p.argv.insert(p.argv.end(),
                    {"--owner", std::to_string(m.present->uid) + ":" + std::to_string(m.present->gid)});
    if (!m.undo.empty()) p.argv.insert(p.argv.end(), {"--undo", m.undo});
    if (!m.views.empty()) p.argv.insert(p.argv.end(), {"--views", m.views});
    if (!m.log.empty()) p.argv.insert(p.argv.end(), {"--log", m.log});
    p.env = {std::string("PATH=") + kSafePath};
    p.as = m.as;
    p.cgroupProcs = m.cgroupProcs;
    p.timeout = std::chrono::seconds(15);
    auto r = runChecked(runner_, p);
    if (!r) return r.error().context("mounting the state filesystem on " + m.mountPoint);
    mounted = mountsUnder(m.mountPoint);
    if (!mounted || std::find(mounted->begin(), mounted->end(), m.mountPoint) == mounted->end())
      return core::Error("state filesystem not mounted on " + m.mountPoint +
                         " after the statefs command returned");
    for (const std::string* at : {&m.mountPoint, &m.views}) {
      if (at->empty()) continue;
      if (auto st = setReadahead(*at, kStateFsReadaheadKiB); !st)
        spdlog::warn("state filesystem: {} (reads keep the kernel's default window)", st.error().message);
    }
    return {};
  }

  core::Status unmount(const std::string& mountPoint) override {
    if (::umount2(mountPoint.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
        errno != ENOENT)
      return core::Error::fromErrno("cannot unmount " + mountPoint);
    return {};
  }

 private:
  ProcessRunner& runner_;
  std::vector<std::string> command_;
};

}  // namespace

core::Status setReadahead(const std::string& mountPoint, unsigned kib) {
  struct stat st {};
  if (::stat(mountPoint.c_str(), &st) != 0) return core::Error::fromErrno("readahead of " + mountPoint);
  const std::string knob = "/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                           std::to_string(minor(st.st_dev)) + "/read_ahead_kb";
  std::ofstream out(knob);
  if (!(out << kib << '\n') || !out.flush())
    return core::Error::fromErrno("setting " + knob + " (readahead of " + mountPoint + ") to " +
                                  std::to_string(kib));
  return {};
}

std::unique_ptr<StateFs> makeStateFsLauncher(ProcessRunner& runner, std::vector<std::string> command) {
  return std::make_unique<StateFsLauncher>(runner, std::move(command));
}

}  // namespace sashimono::host
