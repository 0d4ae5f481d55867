#include "sashimono/node/HostConfig.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "sashimono/core/Config.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/crypto/SeedFile.h"
#include "sashimono/net/HttpServer.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {

namespace {

core::Result<PortRange> portRange(const core::ConfigNode& n, const char* field) {
  SASHI_TRY_ASSIGN(arr, n.array(field));
  if (arr.size() != 2) return n.fieldError(field, "expected [first, last]");
  std::uint64_t v[2];
  for (int i = 0; i < 2; ++i) {
    const auto& raw = arr[static_cast<std::size_t>(i)].raw();
    if (!raw.IsUint() || raw.GetUint() < 1 || raw.GetUint() > 65535)
      return n.fieldError(field, "ports must be integers in 1..65535");
    v[i] = raw.GetUint();
  }
  if (v[0] > v[1]) return n.fieldError(field, "first port is above the last");
  return PortRange{static_cast<std::uint16_t>(v[0]), static_cast<std::uint16_t>(v[1])};
}

std::string resolve(const std::string& base, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  auto dir = std::filesystem::path(base).parent_path();
  return (dir / p).lexically_normal().string();
}

}  // namespace

core::Result<HostConfig> parseHostConfig(const std::string& text, const std::string& source) {
  SASHI_TRY_ASSIGN(root, core::ConfigNode::parse(text, source));
  HostConfig c;
  c.sourcePath = source;
  {
    SASHI_TRY_ASSIGN(board, root.object("board"));
    SASHI_TRY_ASSIGN(urls, board.strings("urls"));
    if (urls.empty()) return board.fieldError("urls", "at least one ws:// or wss:// URL is needed");
    for (const auto& u : urls)
      if (u.rfind("ws://", 0) != 0 && u.rfind("wss://", 0) != 0)
        return board.fieldError("urls", "'" + u + "' is not a ws:// or wss:// URL");
    c.boardUrls = urls;
    SASHI_TRY_ASSIGN(ca, board.string("caFile", ""));
    c.caFile = ca.empty() ? ca : resolve(source, ca);
    SASHI_TRY_ASSIGN(quiet, board.uint("quietSeconds", 30, 1, 3600));
    c.quietSeconds = quiet;
    // Trusted validators (master public keys, "n…"), as rippled's validators.txt names them.
    std::vector<std::string> validators;
    if (board.has("validators")) {
      SASHI_TRY_ASSIGN(listed, board.strings("validators"));
      validators = std::move(listed);
    }
    for (const auto& v : validators) {
      if (auto k = crypto::decodeNodePublic(v); !k.ok())
        return board.fieldError("validators",
                                "'" + v + "' is not a validator public key: " + k.error().message);
      if (std::count(validators.begin(), validators.end(), v) > 1)
        return board.fieldError("validators", "'" + v + "' is listed twice");
    }
    c.validators = validators;
    SASHI_TRY_ASSIGN(quorum, board.uint("quorum", 0, 0, 1000));
    if (quorum > validators.size())
      return board.fieldError(
          "quorum", "is above the number of validators (" + std::to_string(validators.size()) + ")");
    c.validatorQuorum = quorum;
  }
  {
    SASHI_TRY_ASSIGN(account, root.object("account"));
    SASHI_TRY_ASSIGN(seedFile, account.string("seedFile"));
    if (seedFile.empty()) return account.fieldError("seedFile", "must not be empty");
    c.seedFile = resolve(source, seedFile);
  }
  {
    SASHI_TRY_ASSIGN(host, root.object("host"));
    SASHI_TRY_ASSIGN(address, host.string("address"));
    if (auto v = protocol::validateHost(address); !v) return host.fieldError("address", v.error().message);
    c.address = address;
  }
  {
    SASHI_TRY_ASSIGN(cap, root.object("capacity"));
    SASHI_TRY_ASSIGN(instances, cap.uint("instances", 0, 10000));
    SASHI_TRY_ASSIGN(cpu, cap.uint("cpuMillis", 1, 1'000'000));
    SASHI_TRY_ASSIGN(mem, cap.uint("memoryMiB", 16, 1ull << 30));
    SASHI_TRY_ASSIGN(swap, cap.uint("swapMiB", 0, 0, 1ull << 30));
    SASHI_TRY_ASSIGN(disk, cap.uint("diskMiB", 16, 1ull << 30));
    c.offer.instances = static_cast<std::uint32_t>(instances);
    c.offer.size = lease::InstanceSize{cpu, mem, swap, disk};
  }
  {
    SASHI_TRY_ASSIGN(ports, root.object("ports"));
    SASHI_TRY_ASSIGN(user, portRange(ports, "user"));
    SASHI_TRY_ASSIGN(peer, portRange(ports, "peer"));
    SASHI_TRY_ASSIGN(general, portRange(ports, "general"));
    SASHI_TRY_ASSIGN(per, ports.uint("generalPerInstance", 0, 0, 4));
    c.userPorts = user;
    c.peerPorts = peer;
    c.generalPorts = general;
    c.generalPerInstance = static_cast<std::uint32_t>(per);
    SASHI_TRY_ASSIGN(bind, ports.string("bindAddress", "0.0.0.0"));
    in_addr a4{};
    if (::inet_pton(AF_INET, bind.c_str(), &a4) != 1)
      return ports.fieldError("bindAddress", "'" + bind + "' is not a dotted IPv4 address");
    c.bindAddress = bind;
  }
  {
    SASHI_TRY_ASSIGN(pricing, root.object("pricing"));
    SASHI_TRY_ASSIGN(price, pricing.uint("pricePerMoment", 1, protocol::kMaxDrops));
    SASHI_TRY_ASSIGN(moment, pricing.uint("momentSeconds", 1, UINT32_MAX));
    SASHI_TRY_ASSIGN(maxMoments, pricing.uint("maxMoments", 1, UINT32_MAX));
    c.offer.pricePerMoment = price;
    c.offer.momentSeconds = moment;
    c.offer.maxMoments = maxMoments;
    if (auto v = lease::validateOffer(c.offer); !v)
      return pricing.fieldError("maxMoments", v.error().message);
  }
  {
    SASHI_TRY_ASSIGN(tenants, root.object("tenants"));
    std::vector<std::string> images = kDefaultImages;
    if (tenants.has("images")) {
      SASHI_TRY_ASSIGN(listed, tenants.strings("images"));
      images = std::move(listed);
    }
    if (images.empty() || images.size() > protocol::kMaxAnnouncedImages)
      return tenants.fieldError("images", "1 to 8 image names");
    for (const auto& i : images)
      if (auto v = protocol::validateImageName(i); !v)
        return tenants.fieldError("images", "'" + i + "': " + v.error().message);
    c.policy.allowedImages = images;
    SASHI_TRY_ASSIGN(
        minR, tenants.uint("minRoundtimeMs", 100, protocol::kMinRoundtimeMs, protocol::kMaxRoundtimeMs));
    SASHI_TRY_ASSIGN(
        maxR, tenants.uint("maxRoundtimeMs", 60000, protocol::kMinRoundtimeMs, protocol::kMaxRoundtimeMs));
    if (minR > maxR) return tenants.fieldError("minRoundtimeMs", "is above maxRoundtimeMs");
    SASHI_TRY_ASSIGN(env, tenants.uint("maxEnvVars", protocol::kMaxEnvVars, 0, protocol::kMaxEnvVars));
    c.policy.minRoundtimeMs = static_cast<std::uint32_t>(minR);
    c.policy.maxRoundtimeMs = static_cast<std::uint32_t>(maxR);
    c.policy.maxEnvVars = env;
    SASHI_TRY_ASSIGN(imagesDir, tenants.string("imagesDir", "/var/lib/sashimono/images"));
    if (imagesDir.empty()) return tenants.fieldError("imagesDir", "must not be empty");
    c.imagesDir = resolve(source, imagesDir);
  }
  if (root.has("runtime")) {
    SASHI_TRY_ASSIGN(rt, root.object("runtime"));
    constexpr std::uint64_t kMax = 1ull << 50;
    const RuntimeCeilings d;
    SASHI_TRY_ASSIGN(exec, rt.uint("execTimeoutMs", d.execTimeoutMs, 0, 86'400'000));
    SASHI_TRY_ASSIGN(procs, rt.uint("procCount", d.procCount, 0, 1u << 22));
    SASHI_TRY_ASSIGN(userOut, rt.uint("userOutputBytes", d.userOutputBytes, 0, kMax));
    SASHI_TRY_ASSIGN(nplOut, rt.uint("nplOutputBytes", d.nplOutputBytes, 0, kMax));
    SASHI_TRY_ASSIGN(mem, rt.uint("procMemBytes", d.procMemBytes, 0, kMax));
    c.runtime = RuntimeCeilings{exec, procs, userOut, nplOut, mem};
  }
  if (root.has("registry")) {
    SASHI_TRY_ASSIGN(reg, root.object("registry"));
    SASHI_TRY_ASSIGN(account, reg.string("account", ""));
    if (!account.empty() && !crypto::decodeAddress(account).ok())
      return reg.fieldError("account", "'" + account + "' is not an r-address");
    c.registryAccount = account;
    SASHI_TRY_ASSIGN(hb, reg.uint("heartbeatSeconds", 600, 1, 86400 * 7));
    c.heartbeatSeconds = hb;
  }
  SASHI_TRY_ASSIGN(dataDir, root.string("dataDir"));
  if (dataDir.empty()) return root.fieldError("dataDir", "must not be empty");
  c.dataDir = resolve(source, dataDir);
  SASHI_TRY_ASSIGN(level, root.string("logLevel", "info"));
  if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end())
    return root.fieldError("logLevel", "'" + level + "' is not one of trace, debug, info, warn, error, off");
  c.logLevel = level;
  if (root.has("metrics")) {
    SASHI_TRY_ASSIGN(metrics, root.object("metrics"));
    SASHI_TRY_ASSIGN(address, metrics.string("address", c.metricsAddress));
    if (!address.empty()) {
      if (auto a = net::parseListenAddress(address); !a)
        return metrics.fieldError("address", a.error().message + " (\"\" turns metrics off)");
    }
    c.metricsAddress = address;
  }
  if (root.has("heal")) {
    SASHI_TRY_ASSIGN(heal, root.object("heal"));
    SASHI_TRY_ASSIGN(report, heal.uint("reportAfterSeconds", c.healReportAfterSeconds, 1, 86400));
    SASHI_TRY_ASSIGN(backoff, heal.uint("maxBackoffSeconds", c.healMaxBackoffSeconds, 1, 3600));
    SASHI_TRY_ASSIGN(stable, heal.uint("stableSeconds", c.healStableSeconds, 1, 86400));
    c.healReportAfterSeconds = report;
    c.healMaxBackoffSeconds = backoff;
    c.healStableSeconds = stable;
  }
  if (root.has("fees")) {
    SASHI_TRY_ASSIGN(fees, root.object("fees"));
    SASHI_TRY_ASSIGN(maxDrops, fees.uint("maxDrops", c.fees.maxDrops, kMinFeeCeiling, kMaxFeeCeiling));
    SASHI_TRY_ASSIGN(low, fees.uint("lowBalanceReplies", c.fees.lowBalanceReplies, 0, 1'000'000'000));
    c.fees = FeeLimits{maxDrops, low};
  }
  return c;
}

std::vector<std::string> fieldsNeedingRestart(const HostConfig& a, const HostConfig& b) {
  std::vector<std::string> out;
  auto check = [&out](bool same, const char* field) {
    if (!same) out.emplace_back(field);
  };
  check(a.boardUrls == b.boardUrls, "board.urls");
  check(a.caFile == b.caFile, "board.caFile");
  check(a.quietSeconds == b.quietSeconds, "board.quietSeconds");
  check(a.validators == b.validators, "board.validators");
  check(a.validatorQuorum == b.validatorQuorum, "board.quorum");
  check(a.seedFile == b.seedFile, "account.seedFile");
  check(a.address == b.address, "host.address");
  check(a.userPorts == b.userPorts, "ports.user");
  check(a.peerPorts == b.peerPorts, "ports.peer");
  check(a.generalPorts == b.generalPorts, "ports.general");
  check(a.generalPerInstance == b.generalPerInstance, "ports.generalPerInstance");
  check(a.bindAddress == b.bindAddress, "ports.bindAddress");
  check(a.policy.allowedImages == b.policy.allowedImages &&
            a.policy.minRoundtimeMs == b.policy.minRoundtimeMs &&
            a.policy.maxRoundtimeMs == b.policy.maxRoundtimeMs && a.policy.maxEnvVars == b.policy.maxEnvVars,
        "tenants");
  check(a.imagesDir == b.imagesDir, "tenants.imagesDir");
  check(a.runtime == b.runtime, "runtime");
  check(a.registryAccount == b.registryAccount, "registry.account");
  check(a.heartbeatSeconds == b.heartbeatSeconds, "registry.heartbeatSeconds");
  check(a.dataDir == b.dataDir, "dataDir");
  check(a.metricsAddress == b.metricsAddress, "metrics.address");
  check(a.healReportAfterSeconds == b.healReportAfterSeconds &&
            a.healMaxBackoffSeconds == b.healMaxBackoffSeconds && a.healStableSeconds == b.healStableSeconds,
        "heal");
  return out;
}

core::Result<HostConfig> loadHostConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return core::Error::fromErrno("cannot read host config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parseHostConfig(ss.str(), path);
}

std::string renderHostConfig(const HostConfig& c) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str());
  };
  auto num = [&](const char* k, std::uint64_t v) {
    w.Key(k);
    w.Uint64(v);
  };
  auto range = [&](const char* k, const PortRange& r) {
    w.Key(k);
    w.StartArray();
    w.Uint(r.first);
    w.Uint(r.last);
    w.EndArray();
  };
  w.StartObject();
  str("_comment", "Sashimono host configuration; see config/host.example.json for every field.");
  w.Key("board");
  w.StartObject();
  w.Key("urls");
  w.StartArray();
  for (const auto& u : c.boardUrls) w.String(u.c_str());
  w.EndArray();
  str("caFile", c.caFile);
  num("quietSeconds", c.quietSeconds);
  if (!c.validators.empty()) {
    w.Key("validators");
    w.StartArray();
    for (const auto& v : c.validators) w.String(v.c_str());
    w.EndArray();
    num("quorum", c.validatorQuorum);
  }
  w.EndObject();
  w.Key("account");
  w.StartObject();
  str("seedFile", c.seedFile);
  w.EndObject();
  w.Key("host");
  w.StartObject();
  str("address", c.address);
  w.EndObject();
  w.Key("capacity");
  w.StartObject();
  num("instances", c.offer.instances);
  num("cpuMillis", c.offer.size.cpuMillis);
  num("memoryMiB", c.offer.size.memoryMiB);
  num("swapMiB", c.offer.size.swapMiB);
  num("diskMiB", c.offer.size.diskMiB);
  w.EndObject();
  w.Key("ports");
  w.StartObject();
  range("user", c.userPorts);
  range("peer", c.peerPorts);
  range("general", c.generalPorts);
  num("generalPerInstance", c.generalPerInstance);
  str("bindAddress", c.bindAddress);
  w.EndObject();
  w.Key("pricing");
  w.StartObject();
  num("pricePerMoment", c.offer.pricePerMoment);
  num("momentSeconds", c.offer.momentSeconds);
  num("maxMoments", c.offer.maxMoments);
  w.EndObject();
  w.Key("tenants");
  w.StartObject();
  w.Key("images");
  w.StartArray();
  for (const auto& i : c.policy.allowedImages) w.String(i.c_str());
  w.EndArray();
  num("minRoundtimeMs", c.policy.minRoundtimeMs);
  num("maxRoundtimeMs", c.policy.maxRoundtimeMs);
  num("maxEnvVars", c.policy.maxEnvVars);
  str("imagesDir", c.imagesDir);
  w.EndObject();
  w.Key("runtime");
  w.StartObject();
  num("execTimeoutMs", c.runtime.execTimeoutMs);
  num("procCount", c.runtime.procCount);
  num("userOutputBytes", c.runtime.userOutputBytes);
  num("nplOutputBytes", c.runtime.nplOutputBytes);
  num("procMemBytes", c.runtime.procMemBytes);
  w.EndObject();
  w.Key("registry");
  w.StartObject();
  str("account", c.registryAccount);
  num("heartbeatSeconds", c.heartbeatSeconds);
  w.EndObject();
  str("dataDir", c.dataDir);
  str("logLevel", c.logLevel);
  w.Key("metrics");
  w.StartObject();
  str("address", c.metricsAddress);
  w.EndObject();
  w.Key("heal");
  w.StartObject();
  num("reportAfterSeconds", c.healReportAfterSeconds);
  num("maxBackoffSeconds", c.healMaxBackoffSeconds);
  num("stableSeconds", c.healStableSeconds);
  w.EndObject();
  w.Key("fees");
  w.StartObject();
  num("maxDrops", c.fees.maxDrops);
  num("lowBalanceReplies", c.fees.lowBalanceReplies);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString()) + "\n";
}

core::Result<std::string> readSeedFile(const std::string& path) {
  SASHI_TRY_ASSIGN(seed, crypto::readSeedFile(path));
  if (seed.type() != crypto::KeyType::ed25519)
    return core::Error("seed file " + path + ": the host needs an ed25519 seed (sEd...)");
  return crypto::encodeSeed(seed);
}

core::Status writeSeedFile(const std::string& path, const std::string& seed) {
  return crypto::writeSeedFile(path, seed);
}

}  // namespace sashimono::node
