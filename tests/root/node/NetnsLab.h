#pragma once
// Simulated hosts on one machine: a bridge smb<pid> in the root namespace with 10.231.<k>.1/24,
// and per host a network namespace smh<pid>-<i> joined to it by a veth pair (smv<pid>x<i> on the
// bridge, eth0 inside with 10.231.<k>.<10+i>/24). A process runs "on" host i through
// `nsenter --net=` (its network only: mounts stay shared, so the host's tenants are visible to
// the test and its cleanup). A partition is a host's veth taken down. The destructor removes all
// of it; namespaces and bridges that a dead run left (their names carry its pid) are removed
// first.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sashimono::node::testing {

class NetnsLab {
 public:
  explicit NetnsLab(std::size_t hosts) : pid_(std::to_string(::getpid())) {
    try {
      build(hosts);
    } catch (...) {
      teardown();
      throw;
    }
  }
  ~NetnsLab() { teardown(); }
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  [[nodiscard]] std::string gateway() const { return subnet_ + "1"; }
  [[nodiscard]] std::string address(std::size_t i) const { return subnet_ + std::to_string(10 + i); }
  [[nodiscard]] std::string netns(std::size_t i) const { return "smh" + pid_ + "-" + std::to_string(i); }
  // The argv prefix that runs a command in host i's network.
  [[nodiscard]] std::vector<std::string> on(std::size_t i) const {
    return {"/usr/bin/nsenter", "--net=/run/netns/" + netns(i), "--"};
  }
  // Host i's link to the others (and to the devnet and the test) down or up again.
  void link(std::size_t i, bool up) { run("ip link set " + veth(i) + (up ? " up" : " down")); }

  // Whether this machine can make the lab (root, iproute2, nsenter).
  static std::string missingPrerequisite() {
    if (::geteuid() != 0) return "needs root";
    if (::access("/usr/bin/nsenter", X_OK) != 0) return "missing /usr/bin/nsenter";
    if (sh("ip netns list >/dev/null 2>&1") != 0) return "ip netns does not work here";
    return "";
  }

 private:
  void build(std::size_t hosts) {
    reapDeadRuns();
    subnet_ = "10.231." + std::to_string(::getpid() % 250) + ".";
    run("ip link add " + bridge() + " type bridge");
    created_ = true;
    run("ip addr add " + subnet_ + "1/24 dev " + bridge());
    run("ip link set " + bridge() + " up");
    for (std::size_t i = 0; i < hosts; ++i) {
      const std::string ns = netns(i), v = veth(i), peer = "smp" + pid_ + "x" + std::to_string(i);
      run("ip netns add " + ns);
      names_.push_back(ns);
      run("ip link add " + v + " type veth peer name " + peer);
      run("ip link set " + peer + " netns " + ns);
      run("ip link set " + v + " master " + bridge());
      run("ip link set " + v + " up");
      run("ip -n " + ns + " link set lo up");
      run("ip -n " + ns + " link set " + peer + " name eth0");
      run("ip -n " + ns + " addr add " + address(i) + "/24 dev eth0");
      run("ip -n " + ns + " link set eth0 up");
    }
  }
  void teardown() {
    // The veth pairs first: a namespace that something in the kernel still holds for a while
    // would otherwise keep its pair (and the bridge end) alive after `ip netns del`.
    for (std::size_t i = 0; i < names_.size(); ++i) (void)sh("ip link del " + veth(i) + " 2>/dev/null");
    for (const auto& ns : names_) (void)sh("ip netns del " + ns);
    names_.clear();
    if (created_) (void)sh("ip link del " + bridge());
    created_ = false;
  }

  [[nodiscard]] std::string bridge() const { return "smb" + pid_; }
  [[nodiscard]] std::string veth(std::size_t i) const { return "smv" + pid_ + "x" + std::to_string(i); }

  static int sh(const std::string& cmd) { return std::system(cmd.c_str()); }
  static void run(const std::string& cmd) {
    if (sh(cmd + " 2>&1") != 0) throw std::runtime_error("failed: " + cmd);
  }
  // The bridges and namespaces of runs whose process is gone.
  static void reapDeadRuns() {
    auto dead = [](const std::string& digits) {
      const pid_t p = static_cast<pid_t>(std::atol(digits.c_str()));
      return p > 0 && p != ::getpid() && ::kill(p, 0) != 0;
    };
    auto lines = [](const char* cmd) {
      std::vector<std::string> out;
      if (FILE* f = ::popen(cmd, "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, f) != nullptr) out.emplace_back(buf);
        ::pclose(f);
      }
      return out;
    };
    for (const auto& l : lines("ip netns list 2>/dev/null")) {
      std::istringstream in(l);
      std::string name;
      in >> name;
      if (name.rfind("smh", 0) == 0 && name.find('-') != std::string::npos &&
          dead(name.substr(3, name.find('-') - 3)))
        (void)sh("ip netns del " + name);
    }
    for (const auto& l : lines("ip -o link show type veth 2>/dev/null")) {
      // "13: smv1234x0@if12: <…"
      const auto a = l.find(": smv");
      if (a == std::string::npos) continue;
      const auto b = l.find_first_of("@:", a + 2);
      const std::string name = l.substr(a + 2, b - a - 2);
      if (name.find('x') != std::string::npos && dead(name.substr(3, name.find('x') - 3)))
        (void)sh("ip link del " + name);
    }
    for (const auto& l : lines("ip -o link show type bridge 2>/dev/null")) {
      // "12: smb1234: <…"
      const auto a = l.find(": smb");
      if (a == std::string::npos) continue;
      const auto b = l.find(':', a + 2);
      const std::string name = l.substr(a + 2, b - a - 2);
      if (dead(name.substr(3))) (void)sh("ip link del " + name);
    }
  }

  std::string pid_;
  std::string subnet_;
  bool created_ = false;
  std::vector<std::string> names_;
};

}  // namespace sashimono::node::testing
