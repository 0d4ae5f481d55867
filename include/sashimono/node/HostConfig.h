#pragma once
// The host node's configuration file (config/host.example.json), read with core::ConfigNode:
// every error names the file and the field. Pure apart from reading the file; thread-safe.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/lease/Offer.h"
#include "sashimono/node/FundsWatch.h"
#include "sashimono/protocol/Verdict.h"

namespace sashimono::node {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive
  bool operator==(const PortRange&) const = default;
};

// The images a host offers unless its configuration says otherwise: `hotpocket` (the instance
// runtime, docker/hotpocket) first, the default; `instance` (busybox httpd) for tests.
inline const std::vector<std::string> kDefaultImages = {"hotpocket", "instance"};

// The host's ceilings for the round limits of every runtime instance (instance.json's
// round_limits; a contract's patch.cfg may ask for less, never more). 0 = no ceiling.
struct RuntimeCeilings {
  std::uint64_t execTimeoutMs = 60000;
  std::uint64_t procCount = 256;
  std::uint64_t userOutputBytes = 64ull << 20;
  std::uint64_t nplOutputBytes = 16ull << 20;
  std::uint64_t procMemBytes = 0;
  bool operator==(const RuntimeCeilings&) const = default;
};

inline constexpr std::string_view kDefaultMetricsAddress = "127.0.0.1:9470";
// fees.maxDrops: at least the outbox's floor (10 drops, the XRPL base fee), at most 100 XRP.
inline constexpr std::uint64_t kMinFeeCeiling = 10;
inline constexpr std::uint64_t kMaxFeeCeiling = 100'000'000;
inline constexpr std::array<std::string_view, 6> kLogLevels = {"trace", "debug", "info",
                                                               "warn",  "error", "off"};

struct HostConfig {
  std::vector<std::string> boardUrls;
  std::string caFile;
  std::uint64_t quietSeconds = 30;
  // Trusted validators' master public keys ("n…"); empty: the boards are trusted for which
  // ledgers are validated (docs/NETWORKS.md). Quorum 0: 80 % of them, rounded up.
  std::vector<std::string> validators;
  std::uint64_t validatorQuorum = 0;
  std::string seedFile;
  std::string address;  // announced host (protocol::validateHost)
  lease::Offer offer;
  PortRange userPorts{26000, 26099};
  PortRange peerPorts{22000, 22099};
  PortRange generalPorts{36000, 36399};
  std::uint32_t generalPerInstance = 2;
  std::string bindAddress = "0.0.0.0";  // where instances' forwarded ports listen on the host
  protocol::HostPolicy policy{kDefaultImages};
  // Where each allowed image's root filesystem is: <imagesDir>/<image>/rootfs (an image's name in
  // a request is the name of its directory here; tools/build-image.sh builds them).
  std::string imagesDir = "/var/lib/sashimono/images";
  RuntimeCeilings runtime;      // the "runtime" section
  std::string registryAccount;  // r-address; empty: no announcements
  std::uint64_t heartbeatSeconds = 600;
  std::string dataDir;
  std::string logLevel = "info";  // one of kLogLevels
  // Where `host run` serves its Prometheus metrics (GET /metrics): "IPv4:port" or "[IPv6]:port";
  // empty: no metrics server.
  std::string metricsAddress = std::string(kDefaultMetricsAddress);
  // The heal loop (the "heal" section): an instance not serving for reportAfterSeconds is
  // reported as failing; restarts back off up to maxBackoffSeconds and are forgiven after
  // stableSeconds of serving.
  std::uint64_t healReportAfterSeconds = 60;
  std::uint64_t healMaxBackoffSeconds = 60;
  std::uint64_t healStableSeconds = 30;
  // The "fees" section: the most a payment is signed for (above it payments wait: the busy
  // network's open-ledger fee comes down, or the owner raises it) and the low-balance warning.
  FeeLimits fees;
  // Relative seedFile / dataDir are resolved against the config file's directory.
  std::string sourcePath;

  [[nodiscard]] std::string storePath() const { return dataDir + "/node.sqlite"; }
};

// Parses and checks the whole file (URLs, ranges, offer, images, addresses).
[[nodiscard]] core::Result<HostConfig> loadHostConfig(const std::string& path);
[[nodiscard]] core::Result<HostConfig> parseHostConfig(const std::string& text, const std::string& source);
// The node's own log file (besides stderr / the journal): <dataDir>/logs/node.log, rotated at
// kNodeLogBytes with kNodeLogFiles older copies.
inline constexpr std::size_t kNodeLogBytes = 10u << 20;
inline constexpr std::size_t kNodeLogFiles = 4;
[[nodiscard]] inline std::string nodeLogDir(const HostConfig& c) { return c.dataDir + "/logs"; }
[[nodiscard]] inline std::string nodeLogPath(const HostConfig& c) { return nodeLogDir(c) + "/node.log"; }

// What a running node cannot take from a reloaded configuration (SIGHUP): the names of the fields
// that differ between a and b and need a restart. The offer (capacity, pricing), logLevel and fees do
// not.
[[nodiscard]] std::vector<std::string> fieldsNeedingRestart(const HostConfig& a, const HostConfig& b);
// Canonical JSON text of a config (what `host init` writes), readable by parseHostConfig.
[[nodiscard]] std::string renderHostConfig(const HostConfig& config);

// The host's seed file (crypto/SeedFile.h: mode 0600, wiped), which must hold an ed25519 seed
// (sEd…); returns its text.
[[nodiscard]] core::Result<std::string> readSeedFile(const std::string& path);
// Creates the file with mode 0600 (fails if it exists) and writes the seed and a newline.
[[nodiscard]] core::Status writeSeedFile(const std::string& path, const std::string& seed);

}  // namespace sashimono::node
