#pragma once
// The host config of a test node (a small hotpocket offer announced as 127.0.0.1), the files
// `sashimono host run --config` reads (seed file, config file) written into a test directory, and
// the command line that runs it with file-backed tenants.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::node::fakes {

// `instances` hotpocket instances at 1000 drops per 3600 s moment (at most 10 moments), announced
// as 127.0.0.1, on the board at `boardUrl`, the node's store in `dataDir`, 5 s of board silence
// before it reconnects, metrics on any free loopback port. No seed file and no registry: see
// writeTestHostConfig.
inline HostConfig testHostConfig(const std::string& boardUrl, const std::string& dataDir,
                                 std::uint32_t instances = 2) {
  HostConfig c;
  c.boardUrls = {boardUrl};
  c.address = "127.0.0.1";
  c.offer.instances = instances;
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 10;
  c.policy.allowedImages = {"hotpocket"};
  c.dataDir = dataDir;
  c.quietSeconds = 5;
  c.metricsAddress = "127.0.0.1:0";  // any free port: tests run several nodes at once
  return c;
}

// Writes `seed` to <dir>/host.seed (which becomes config.seedFile), then `config` to
// <dir>/host.json: that file's path.
inline core::Result<std::string> writeTestHostConfig(HostConfig& config, const std::string& dir,
                                                     const std::string& seed) {
  config.seedFile = dir + "/host.seed";
  if (auto st = writeSeedFile(config.seedFile, seed); !st) return st.error().context("host seed");
  std::string path = dir + "/host.json";
  std::ofstream out(path);
  out << renderHostConfig(config);
  if (!out.flush()) return core::Error("cannot write " + path);
  return path;
}

// `sashimono host run` on `configPath` with file-backed tenants in `tenantsDir`, ticking every
// 100 ms: the arguments for Child::start.
inline std::vector<std::string> hostRunArgs(const std::string& configPath, const std::string& tenantsDir) {
  return {SASHIMONO_BINARY,     "host",     "run",       "--config", configPath,
          "--test-provisioner", tenantsDir, "--tick-ms", "100"};
}

}  // namespace sashimono::node::fakes
