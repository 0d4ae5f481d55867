// sashimono host init|run|status — the host node (docs/NODE.md).
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <rapidjson/document.h>

#include "Command.h"
#include "HostLogs.h"
#include "HostStatusView.h"
#include "UpgradeTenants.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostRun.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::cli {

namespace {

constexpr const char* kNotes =
    "--config defaults to /etc/sashimono/host.json (the Debian package's; its data then defaults to\n"
    "/var/lib/sashimono).\n"
    "init writes the configuration (refusing to overwrite one) and the seed into a 0600 seed file\n"
    "(default: host.seed next to the config); it prints the seed only with --print-seed.\n"
    "For tests and local development only, run also takes --process-instances DIR: every instance runs\n"
    "as a plain local process of this user (`sashimono runtime`, state under DIR, ports from the\n"
    "configured ranges) with NO ISOLATION: a contract can read and change anything this user can.\n"
    "Never on a host that serves anybody else.\n";

// The Debian package's paths (packaging/, docs/OPERATIONS.md): --config defaults to its file.
constexpr const char* kPackageConfigDir = "/etc/sashimono";
constexpr const char* kPackageConfig = "/etc/sashimono/host.json";
constexpr const char* kPackageDataDir = "/var/lib/sashimono";

struct Args {
  std::string config = kPackageConfig;
  std::vector<std::string> boards;
  std::string address = "127.0.0.1";
  std::string data;
  std::string seedFile;
  std::string registry;
  std::string testProvisioner;   // hidden: file-backed stand-in for tenants (tests without root)
  std::string processInstances;  // hidden: instances as local processes (tests, development; NO isolation)
  std::optional<std::uint64_t> tickMs;
  // hidden, for root tests that must confine their tenants to names of their own
  std::string tenantsDir;
  std::string tenantPrefix;
  std::string cgroupParent;
  bool printSeed = false;
  bool json = false;
  std::size_t lines = 100;
  bool journal = false;
  std::string image;
  bool dryRun = false;
  std::uint64_t timeout = 30;
  std::vector<std::string> validators;
  std::uint64_t quorum = 0;
};

std::vector<OptionSpec> optionTable(Args& r) {
  return {
      {"--config", true, setString(r.config)},
      {"--board", true, appendString(r.boards)},
      {"--validator", true, appendString(r.validators)},
      {"--quorum", true, setNumber(r.quorum, 1, 1000)},
      {"--address", true, setString(r.address)},
      {"--data", true, setString(r.data)},
      {"--seed-file", true, setString(r.seedFile)},
      {"--registry", true, setString(r.registry)},
      {"--print-seed", false, setFlag(r.printSeed)},
      {"--json", false, setFlag(r.json)},
      {"--test-provisioner", true, setString(r.testProvisioner)},
      {"--process-instances", true, setString(r.processInstances)},
      {"--tick-ms", true, setNumber(r.tickMs, 1, 999'999)},
      {"--tenants-dir", true, setString(r.tenantsDir)},
      {"--tenant-prefix", true, setString(r.tenantPrefix)},
      {"--cgroup-parent", true, setString(r.cgroupParent)},
      {"--lines", true, onNumber(1, 1'000'000, "a number of lines", [&r](std::uint64_t n) { r.lines = n; })},
      {"--journal", false, setFlag(r.journal)},
      {"--image", true, setString(r.image)},
      {"--dry-run", false, setFlag(r.dryRun)},
      {"--timeout", true, setNumber(r.timeout, 1, 3600, "seconds")},
  };
}

int init(const Args& a) {
  const std::string cmd = "host init";
  if (std::filesystem::exists(a.config)) return failure(cmd, a.config + " exists; not overwriting it");
  auto dir = std::filesystem::absolute(a.config).parent_path();
  node::HostConfig c;
  c.boardUrls = a.boards.empty() ? std::vector<std::string>{"ws://127.0.0.1:6006"} : a.boards;
  for (const auto& v : a.validators)
    if (auto k = crypto::decodeNodePublic(v); !k.ok())
      return failure(cmd, "--validator " + v + ": not a validator public key: " + k.error().message);
  if (a.quorum > a.validators.size()) return failure(cmd, "--quorum is above the number of --validator keys");
  c.validators = a.validators;
  c.validatorQuorum = a.quorum;
  c.seedFile =
      a.seedFile.empty() ? (dir / "host.seed").string() : std::filesystem::absolute(a.seedFile).string();
  c.address = a.address;
  c.offer.instances = 4;
  c.offer.size = lease::InstanceSize{1000, 512, 256, 2048};
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 720;
  c.policy.allowedImages = node::kDefaultImages;
  c.registryAccount = a.registry;
  // The package's layout: a config in /etc/sashimono keeps its data in /var/lib/sashimono (where
  // the unit, tmpfiles and purge expect it); elsewhere next to the config.
  const std::string defaultData = dir == std::filesystem::path(kPackageConfigDir)
                                      ? std::string(kPackageDataDir)
                                      : (dir / "host-data").string();
  c.dataDir = a.data.empty() ? defaultData : std::filesystem::absolute(a.data).string();
  // Check by parsing what will be written.
  auto checked = node::parseHostConfig(node::renderHostConfig(c), a.config);
  if (!checked) return failure(cmd, checked.error().message);
  auto seed = crypto::generateSeed(crypto::KeyType::ed25519);
  std::string seedText = crypto::encodeSeed(seed);
  if (std::filesystem::exists(c.seedFile)) {
    auto existing = node::readSeedFile(c.seedFile);
    if (!existing) return failure(cmd, existing.error().message);
    seedText = *existing;
    std::cerr << "using the existing seed in " << c.seedFile << "\n";
  } else if (auto st = node::writeSeedFile(c.seedFile, seedText); !st) {
    return failure(cmd, st.error().message);
  }
  {
    std::ofstream out(a.config, std::ios::out | std::ios::trunc);
    out << node::renderHostConfig(c);
    if (!out) return failure(cmd, "cannot write " + a.config);
  }
  auto key = crypto::KeyPair::fromSeed(seedText);
  if (!key) return failure(cmd, key.error().message);
  std::cout << "config:  " << a.config << "\n"
            << "seed:    " << c.seedFile << " (mode 0600)\n"
            << "account: " << key->address() << "\n"
            << "key:     ED" << core::toHex(core::ByteView(key->publicKey()).subspan(1)) << "\n";
  if (a.printSeed) std::cout << "secret:  " << seedText << "\n";
  std::cout << "Fund the account (at least the reserve) before `sashimono host run --config " << a.config
            << "`.\n";
  return 0;
}

// SIGHUP: a bad file is refused whole (the error names the field); fields that need a restart
// are named and kept.
void reload(node::HostRun& node, const std::string& path) {
  auto next = node::loadHostConfig(path);
  if (!next) {
    spdlog::error("node: SIGHUP: configuration not reloaded, keeping the running one: {}",
                  next.error().message);
    return;
  }
  for (const auto& f : node.reload(*next))
    spdlog::warn("node: SIGHUP: {} changed in {}; it takes effect at the next restart", f, path);
  spdlog::info("node: SIGHUP: configuration reloaded from {}", path);
}

int run(const Args& a) {
  const std::string cmd = "host run";
  auto c = node::loadHostConfig(a.config);
  if (!c) return failure(cmd, c.error().message);
  spdlog::set_level(spdlog::level::from_str(c->logLevel));
  node::HostRunOptions o;
  o.simulatedTenantsDir = a.testProvisioner;
  o.processInstancesDir = a.processInstances;
  if (!a.testProvisioner.empty() && !a.processInstances.empty())
    return usageError(cmd, "--test-provisioner and --process-instances exclude each other");
  o.tenantsDir = a.tenantsDir;
  o.tenantPrefix = a.tenantPrefix;
  if (!a.cgroupParent.empty()) o.cgroupParent = a.cgroupParent;
  if (a.tickMs) o.tickInterval = std::chrono::milliseconds(*a.tickMs);
  o.problems = core::recordRecentProblems();
  // A bounded copy of the node's log in its data directory (`host logs` reads it; under systemd
  // the journal has it too).
  std::error_code ec;
  std::filesystem::create_directories(node::nodeLogDir(*c), ec);
  if (auto err = core::addLogFile(node::nodeLogPath(*c), node::kNodeLogBytes, node::kNodeLogFiles);
      !err.empty())
    spdlog::warn("host run: no log file: {}", err);
  auto node = node::HostRun::open(std::move(*c), o);
  if (!node) return failure(cmd, node.error().message);

  // Signals are taken synchronously by this thread; every other thread inherits the block.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (auto st = (*node)->start(); !st) return failure(cmd, st.error().message);
  spdlog::info("host node {} running ({} board URL(s)); SIGINT/SIGTERM to stop, SIGHUP to reload {}",
               (*node)->key().address(), (*node)->config().boardUrls.size(), a.config);
  int code = 0;
  while (true) {
    timespec ts{0, 200'000'000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("node: signal {}, stopping", sig);
      break;
    }
    if (sig == SIGHUP) reload(**node, a.config);
    if ((*node)->fatal()) {
      code = 1;
      break;
    }
  }
  (*node)->stop();
  if (code != 0) return failure(cmd, (*node)->fatalError());
  return 0;
}

int status(const Args& a) { return showHostStatus(a.config, a.json); }

int logs(const Args& a) { return showHostLogs(a.config, a.lines, a.journal); }

int upgrade(const Args& a) {
  return upgradeTenants(
      {a.config, a.image, a.dryRun, a.timeout, a.json, a.tenantsDir, a.tenantPrefix, a.cgroupParent});
}

int runHost(const std::vector<std::string>& args) {
  Args a;
  // Every verb reads its node's configuration.
  auto withConfig = [&a](const char* verb, int (*f)(const Args&)) {
    return [&a, verb, f](const std::vector<std::string>&) {
      if (a.config.empty()) return usageError(std::string("host ") + verb, "--config FILE must not be empty");
      return f(a);
    };
  };
  const CommandSpec spec{
      .name = "host",
      .verbs =
          {
              {.name = "init",
               .synopsis =
                   "[--config FILE] [--board URL]... [--validator KEY]... [--quorum N] [--address HOST]\n"
                   "                           [--data DIR] [--seed-file FILE] [--registry ADDRESS] "
                   "[--print-seed]",
               .help = "writes a host configuration and a new ed25519 host seed; prints its address and key",
               .run = withConfig("init", &init)},
              {.name = "run",
               .synopsis = "[--config FILE]",
               .help = "runs the node until SIGINT/SIGTERM (root for real tenants); SIGHUP reloads offer, "
                       "logLevel",
               .run = withConfig("run", &run)},
              {.name = "status",
               .synopsis = "[--config FILE] [--json]",
               .help = "node, board lag, capacity, owed payments, leases, problems; exit 3: needs attention",
               .run = withConfig("status", &status)},
              {.name = "logs",
               .synopsis = "[--config FILE] [--lines N] [--journal]",
               .help = "the node's log (<dataDir>/logs/node.log, rotated); --journal: the systemd journal's",
               .run = withConfig("logs", &logs)},
              {.name = "upgrade-tenants",
               .synopsis = "[--config FILE] --image NAME [--dry-run] [--timeout SECONDS] [--json]",
               .help = "moves each tenant of an image to its current version, one at a time, rolling back "
                       "one that does not serve; prunes unused versions (root)",
               .run = withConfig("upgrade-tenants", &upgrade)},
          },
      .options = optionTable(a),
      .notes = kNotes,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar reg{{"host", "run a host node: init, run, status, logs", &runHost}};

}  // namespace

}  // namespace sashimono::cli
