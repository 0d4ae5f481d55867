#pragma once
// Shared by the root node tests (NodeTenantsTest, NodeHotpocketTest): `sashimono host run` as a
// child process whose tenants use TestHost's names (user prefix, cgroup parent, base directory)
// and ports; its log is printed when a test failed, and TestHost cleans the tenants up.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/node/Child.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::node::testing {

// The JavaScript counter sample as a developer ships it (with hotpocket-nodejs-contract from the
// interop tests' node_modules), assembled in `dir`: that directory.
inline std::filesystem::path jsCounterBundle(const std::filesystem::path& dir) {
  const std::filesystem::path source = SASHIMONO_SOURCE_DIR;
  std::filesystem::create_directories(dir / "node_modules/hotpocket-nodejs-contract");
  for (const char* f : {"index.js", "package.json", "contract.json"})
    std::filesystem::copy_file(source / "contracts-samples/js-counter" / f, dir / f);
  for (const char* f : {"index.js", "package.json"})
    std::filesystem::copy_file(source / "tests/interop/node_modules/hotpocket-nodejs-contract" / f,
                               dir / "node_modules/hotpocket-nodejs-contract" / f);
  return dir;
}

class HostRunTest : public ::testing::Test {
 protected:
  void TearDown() override {
    node_.stop(SIGKILL);
    if (HasFailure() && !logPath_.empty()) {
      std::ifstream in(logPath_);
      std::cerr << "---- node log ----\n" << in.rdbuf() << "\n";
    }
    if (host_) host_->cleanup();
  }

  // Starts `sashimono host run` with configPath_, logging to logPath_.
  void startNode() {
    host::testing::TestHost& th = *host_;
    node_.start({SASHIMONO_BINARY, "host", "run", "--config", configPath_, "--tenants-dir", th.base,
                 "--tenant-prefix", th.prefix, "--cgroup-parent", th.cgroupParent, "--tick-ms", "100"},
                {}, logPath_);
  }

  // Waits up to 30 s for the node's announcement on the registry (one host listed by
  // `sashimono hosts`); whether it came.
  static bool announced(const std::string& board, const std::string& registry) {
    using namespace std::chrono_literals;
    bool listed = false;
    for (auto end = std::chrono::steady_clock::now() + 30s;
         !listed && std::chrono::steady_clock::now() < end;) {
      fakes::CliRun hosts = fakes::runCli({"hosts", "--board", board, "--registry", registry, "--json"}, {});
      listed = hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == 1;
      if (!listed) std::this_thread::sleep_for(300ms);
    }
    return listed;
  }

  // The host config's images, ports (TestHost's slices, one general port per instance) and bind
  // address, as the node needs them to provision into TestHost.
  void confine(HostConfig& c) const {
    c.imagesDir = host_->images;
    const auto& pr = host_->prov->config().ports;
    c.userPorts = {pr.user.first, pr.user.last};
    c.peerPorts = {pr.peer.first, pr.peer.last};
    c.generalPorts = {pr.generalTcp.first, pr.generalTcp.last};
    c.generalPerInstance = 1;
    c.bindAddress = "127.0.0.1";
  }

  std::unique_ptr<host::testing::TestHost> host_;
  fakes::Child node_;
  std::string logPath_, configPath_;
  board::fakes::TempDir dir_;
};

}  // namespace sashimono::node::testing
