#include "sashimono/runtime/Config.h"

#include <filesystem>
#include <regex>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/core/Config.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {

namespace {

std::uint64_t capOne(std::uint64_t asked, std::uint64_t ceiling) {
  if (ceiling == 0) return asked;
  if (asked == 0) return ceiling;
  return std::min(asked, ceiling);
}

core::Result<std::vector<PubKey>> keys(const core::ConfigNode& n, const char* field) {
  std::vector<PubKey> out;
  if (!n.has(field)) return out;
  auto list = n.strings(field);
  if (!list) return list.error();
  for (const auto& s : *list) {
    auto k = parseHexKey(s);
    if (!k) return n.fieldError(field, "'" + s + "' is not a key (\"ed\" + 64 hex digits)");
    out.push_back(*k);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool validEnvKey(const std::string& k) {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]{0,127}");
  return std::regex_match(k, re);
}

core::Result<std::vector<std::pair<std::string, std::string>>> environment(const core::ConfigNode& n,
                                                                           const char* field) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!n.has(field)) return out;
  auto obj = n.object(field);
  if (!obj) return obj.error();
  const auto& raw = obj->raw();
  for (auto it = raw.MemberBegin(); it != raw.MemberEnd(); ++it) {
    std::string k(it->name.GetString(), it->name.GetStringLength());
    if (!validEnvKey(k)) return n.fieldError(field, "'" + k + "' is not a valid variable name");
    if (!it->value.IsString()) return n.fieldError(field, "the value of '" + k + "' must be a string");
    std::string v(it->value.GetString(), it->value.GetStringLength());
    if (v.size() > 4096 || v.find('\0') != std::string::npos)
      return n.fieldError(field, "the value of '" + k + "' is too long or holds a NUL");
    out.emplace_back(std::move(k), std::move(v));
  }
  if (out.size() > 64) return n.fieldError(field, "at most 64 variables");
  return out;
}

core::Result<RoundLimits> limits(const core::ConfigNode& parent, const char* field, const RoundLimits& dflt) {
  RoundLimits l = dflt;
  if (!parent.has(field)) return l;
  auto n = parent.object(field);
  if (!n) return n.error();
  auto get = [&](const char* f, std::uint64_t& dst) -> core::Status {
    auto v = n->uint(f, dst, 0, UINT64_MAX / 2);
    if (!v) return v.error();
    dst = *v;
    return {};
  };
  SASHI_TRY(get("user_input_bytes", l.userInputBytes));
  SASHI_TRY(get("user_output_bytes", l.userOutputBytes));
  SASHI_TRY(get("npl_output_bytes", l.nplOutputBytes));
  SASHI_TRY(get("proc_cpu_seconds", l.procCpuSeconds));
  SASHI_TRY(get("proc_mem_bytes", l.procMemBytes));
  SASHI_TRY(get("proc_ofd_count", l.procOfdCount));
  SASHI_TRY(get("proc_count", l.procCount));
  SASHI_TRY(get("exec_timeout", l.execTimeoutMs));
  return l;
}

template <typename W>
void writeLimits(W& w, const RoundLimits& l, bool withOurs) {
  w.StartObject();
  w.Key("user_input_bytes");
  w.Uint64(l.userInputBytes);
  w.Key("user_output_bytes");
  w.Uint64(l.userOutputBytes);
  w.Key("npl_output_bytes");
  w.Uint64(l.nplOutputBytes);
  w.Key("proc_cpu_seconds");
  w.Uint64(l.procCpuSeconds);
  w.Key("proc_mem_bytes");
  w.Uint64(l.procMemBytes);
  w.Key("proc_ofd_count");
  w.Uint64(l.procOfdCount);
  if (withOurs) {
    w.Key("proc_count");
    w.Uint64(l.procCount);
  }
  w.Key("exec_timeout");
  w.Uint64(l.execTimeoutMs);
  w.EndObject();
}

template <typename W>
void writeEnv(W& w, const std::vector<std::pair<std::string, std::string>>& env) {
  w.StartObject();
  for (const auto& [k, v] : env) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
}

template <typename W>
void writeKeys(W& w, const std::vector<PubKey>& keys) {
  w.StartArray();
  for (const auto& k : keys) w.String(hexKey(k).c_str());
  w.EndArray();
}

}  // namespace

RoundLimits capLimits(const RoundLimits& a, const RoundLimits& c) {
  RoundLimits r;
  r.userInputBytes = capOne(a.userInputBytes, c.userInputBytes);
  r.userOutputBytes = capOne(a.userOutputBytes, c.userOutputBytes);
  r.nplOutputBytes = capOne(a.nplOutputBytes, c.nplOutputBytes);
  r.procCpuSeconds = capOne(a.procCpuSeconds, c.procCpuSeconds);
  r.procMemBytes = capOne(a.procMemBytes, c.procMemBytes);
  r.procOfdCount = capOne(a.procOfdCount, c.procOfdCount);
  r.procCount = capOne(a.procCount, c.procCount);
  r.execTimeoutMs = capOne(a.execTimeoutMs, c.execTimeoutMs);
  return r;
}

core::Result<InstanceConfig> parseInstanceConfig(const std::string& json, const std::string& source,
                                                 const std::string& baseDir) {
  auto root = core::ConfigNode::parse(json, source);
  if (!root) return root.error();
  InstanceConfig c;
  auto id = root->string("contract_id");
  if (!id) return id.error();
  if (id->empty() || id->size() > 128) return root->fieldError("contract_id", "1-128 characters");
  c.contractId = *id;
  if (root->has("owner")) {
    auto o = root->string("owner");
    if (!o) return o.error();
    auto k = parseHexKey(*o);
    if (!k) return root->fieldError("owner", "not a key (\"ed\" + 64 hex digits)");
    c.owner = *k;
  }
  auto kf = root->string("key_file", "instance.key");
  if (!kf) return kf.error();
  c.keyFile =
      std::filesystem::path(*kf).is_absolute() ? *kf : (std::filesystem::path(baseDir) / *kf).string();
  auto unl = keys(*root, "unl");
  if (!unl) return unl.error();
  c.unl = *unl;
  if (root->has("user")) {
    auto u = root->object("user");
    if (!u) return u.error();
    auto s = [&](const char* f, std::string& dst) -> core::Status {
      auto v = u->string(f, dst);
      if (!v) return v.error();
      dst = *v;
      return {};
    };
    auto n = [&](const char* f, auto& dst, std::uint64_t min, std::uint64_t max) -> core::Status {
      auto v = u->uint(f, dst, min, max);
      if (!v) return v.error();
      dst = static_cast<std::remove_reference_t<decltype(dst)>>(*v);
      return {};
    };
    SASHI_TRY(s("listen", c.user.listen));
    SASHI_TRY(n("port", c.user.port, 0, 65535));
    SASHI_TRY(s("tls", c.user.tls));
    if (c.user.tls != "self-signed" && c.user.tls != "files" && c.user.tls != "off")
      return u->fieldError("tls", "self-signed, files or off");
    SASHI_TRY(s("cert_file", c.user.certFile));
    SASHI_TRY(s("key_file", c.user.keyFile));
    if (c.user.tls == "files" && (c.user.certFile.empty() || c.user.keyFile.empty()))
      return u->fieldError("tls", "files needs cert_file and key_file");
    SASHI_TRY(n("max_connections", c.user.maxConnections, 1, 100000));
    SASHI_TRY(n("max_connections_per_host", c.user.maxConnectionsPerHost, 0, 100000));
    SASHI_TRY(n("max_bytes_per_msg", c.user.maxBytesPerMsg, 1024, 256u << 20));
    SASHI_TRY(n("max_bytes_per_min", c.user.maxBytesPerMin, 0, UINT64_MAX / 2));
    SASHI_TRY(n("max_bad_msgs_per_min", c.user.maxBadMsgsPerMin, 0, 1u << 30));
    SASHI_TRY(n("concurrent_read_requests", c.user.concurrentReadRequests, 0, 32));
    SASHI_TRY(n("idle_timeout_ms", c.user.idleTimeoutMs, 0, 86400000));
  }
  if (root->has("contract")) {
    auto k = root->object("contract");
    if (!k) return k.error();
    auto rt = k->uint("roundtime_ms", c.roundTimeMs, 1, 3600000);
    if (!rt) return rt.error();
    c.roundTimeMs = *rt;
    auto env = environment(*k, "environment");
    if (!env) return env.error();
    c.environment = *env;
    auto ll = k->string("log_level", c.logLevel);
    if (!ll) return ll.error();
    c.logLevel = *ll;
  }
  auto l = limits(*root, "round_limits", RoundLimits{0, 0, 0, 0, 0, 0, 0, 0});
  if (!l) return l.error();
  c.roundLimits = *l;
  if (root->has("run_as")) {
    auto r = root->object("run_as");
    if (!r) return r.error();
    auto uid = r->uint("uid", 1, 0xfffffffe);
    if (!uid) return uid.error();
    auto gid = r->uint("gid", 1, 0xfffffffe);
    if (!gid) return gid.error();
    c.runAs = std::make_pair(static_cast<uid_t>(*uid), static_cast<gid_t>(*gid));
  }
  auto sc = root->string("statefs_control", "");
  if (!sc) return sc.error();
  if (!sc->empty() && ((*sc)[0] != '/' || sc->size() > 107))
    return root->fieldError("statefs_control", "not an absolute socket path of at most 107 bytes");
  c.statefsControl = *sc;
  auto sv = root->string("statefs_views", "");
  if (!sv) return sv.error();
  if (!sv->empty() && ((*sv)[0] != '/' || sv->size() > 4000))
    return root->fieldError("statefs_views", "not an absolute path");
  c.statefsViews = *sv;
  if (root->has("peer")) {
    auto pn = root->object("peer");
    if (!pn) return pn.error();
    c.peer.enabled = true;
    auto listen = pn->string("listen", c.peer.listen);
    if (!listen) return listen.error();
    c.peer.listen = *listen;
    auto port = pn->uint("port", 0, 0, 65535);
    if (!port) return port.error();
    c.peer.port = static_cast<std::uint16_t>(*port);
  }
  auto cf = root->string("cluster_file", "");
  if (!cf) return cf.error();
  if (!cf->empty() && (*cf)[0] != '/')
    c.clusterFile = (std::filesystem::path(baseDir) / *cf).string();
  else
    c.clusterFile = *cf;
  if (root->has("log")) {
    auto lg = root->object("log");
    if (!lg) return lg.error();
    auto b = lg->uint("max_bytes_per_file", c.logMaxBytesPerFile, 4096, 1ull << 32);
    if (!b) return b.error();
    c.logMaxBytesPerFile = *b;
    auto f = lg->uint("max_files", c.logMaxFiles, 1, 100);
    if (!f) return f.error();
    c.logMaxFiles = *f;
  }
  return c;
}

core::Result<InstanceConfig> loadInstanceConfig(const std::string& path) {
  auto root = core::ConfigNode::loadFile(path);
  if (!root) return root.error();
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  root->raw().Accept(w);
  return parseInstanceConfig(sb.GetString(), path, std::filesystem::path(path).parent_path().string());
}

std::string renderInstanceConfig(const InstanceConfig& c) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("contract_id");
  w.String(c.contractId.c_str());
  if (c.owner) {
    w.Key("owner");
    w.String(hexKey(*c.owner).c_str());
  }
  w.Key("key_file");
  w.String(c.keyFile.c_str());
  w.Key("unl");
  writeKeys(w, c.unl);
  w.Key("user");
  w.StartObject();
  w.Key("listen");
  w.String(c.user.listen.c_str());
  w.Key("port");
  w.Uint(c.user.port);
  w.Key("tls");
  w.String(c.user.tls.c_str());
  if (c.user.tls == "files") {
    w.Key("cert_file");
    w.String(c.user.certFile.c_str());
    w.Key("key_file");
    w.String(c.user.keyFile.c_str());
  }
  w.Key("max_connections");
  w.Uint64(c.user.maxConnections);
  w.Key("max_connections_per_host");
  w.Uint64(c.user.maxConnectionsPerHost);
  w.Key("max_bytes_per_msg");
  w.Uint64(c.user.maxBytesPerMsg);
  w.Key("max_bytes_per_min");
  w.Uint64(c.user.maxBytesPerMin);
  w.Key("max_bad_msgs_per_min");
  w.Uint64(c.user.maxBadMsgsPerMin);
  w.Key("concurrent_read_requests");
  w.Uint64(c.user.concurrentReadRequests);
  w.Key("idle_timeout_ms");
  w.Uint64(c.user.idleTimeoutMs);
  w.EndObject();
  w.Key("contract");
  w.StartObject();
  w.Key("roundtime_ms");
  w.Uint64(c.roundTimeMs);
  w.Key("environment");
  writeEnv(w, c.environment);
  w.Key("log_level");
  w.String(c.logLevel.c_str());
  w.EndObject();
  w.Key("round_limits");
  writeLimits(w, c.roundLimits, true);
  if (c.runAs) {
    w.Key("run_as");
    w.StartObject();
    w.Key("uid");
    w.Uint(c.runAs->first);
    w.Key("gid");
    w.Uint(c.runAs->second);
    w.EndObject();
  }
  if (!c.statefsControl.empty()) {
    w.Key("statefs_control");
    w.String(c.statefsControl.c_str());
  }
  if (!c.statefsViews.empty()) {
    w.Key("statefs_views");
    w.String(c.statefsViews.c_str());
  }
  if (c.peer.enabled) {
    w.Key("peer");
    w.StartObject();
    w.Key("listen");
    w.String(c.peer.listen.c_str());
    w.Key("port");
    w.Uint(c.peer.port);
    w.EndObject();
  }
  if (!c.clusterFile.empty()) {
    w.Key("cluster_file");
    w.String(c.clusterFile.c_str());
  }
  w.Key("log");
  w.StartObject();
  w.Key("max_bytes_per_file");
  w.Uint64(c.logMaxBytesPerFile);
  w.Key("max_files");
  w.Uint64(c.logMaxFiles);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString()) + "\n";
}

core::Result<ContractConfig> parseContractConfig(const std::string& json, const std::string& source) {
  auto root = core::ConfigNode::parse(json, source);
  if (!root) return root.error();
  ContractConfig c;
  auto str = [&](const core::ConfigNode& n, const char* f, std::string& dst) -> core::Status {
    auto v = n.string(f, dst);
    if (!v) return v.error();
    dst = *v;
    return {};
  };
  SASHI_TRY(str(*root, "version", c.version));
  auto unl = keys(*root, "unl");
  if (!unl) return unl.error();
  c.unl = *unl;
  SASHI_TRY(str(*root, "bin_path", c.binPath));
  SASHI_TRY(str(*root, "bin_args", c.binArgs));
  auto env = environment(*root, "environment");
  if (!env) return env.error();
  c.environment = *env;
  auto off = root->uint("max_input_ledger_offset", c.maxInputLedgerOffset, 0, 1000000);
  if (!off) return off.error();
  c.maxInputLedgerOffset = *off;
  if (root->has("consensus")) {
    auto k = root->object("consensus");
    if (!k) return k.error();
    SASHI_TRY(str(*k, "mode", c.consensusMode));
    auto rt = k->uint("roundtime", c.roundTimeMs, 1, 3600000);
    if (!rt) return rt.error();
    c.roundTimeMs = *rt;
    auto ss = k->uint("stage_slice", c.stageSlice, 1, 33);
    if (!ss) return ss.error();
    c.stageSlice = *ss;
    auto th = k->uint("threshold", c.threshold, 1, 100);
    if (!th) return th.error();
    c.threshold = *th;
  }
  if (root->has("npl")) {
    auto k = root->object("npl");
    if (!k) return k.error();
    SASHI_TRY(str(*k, "mode", c.nplMode));
  }
  auto l = limits(*root, "round_limits", c.roundLimits);
  if (!l) return l.error();
  c.roundLimits = *l;
  if (root->has("sashimono")) {
    auto k = root->object("sashimono");
    if (!k) return k.error();
    auto p = k->boolean("periodic_rounds", false);
    if (!p) return p.error();
    c.periodicRounds = *p;
    auto e = k->boolean("expose_private_key", false);
    if (!e) return e.error();
    c.exposePrivateKey = *e;
    auto b = k->uint("busy_round_ms", c.busyRoundMs, 0, 60000);
    if (!b) return b.error();
    c.busyRoundMs = *b;
  }
  return c;
}

std::string renderContractConfig(const ContractConfig& c) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 4);
  w.StartObject();
  w.Key("version");
  w.String(c.version.c_str());
  w.Key("unl");
  writeKeys(w, c.unl);
  w.Key("bin_path");
  w.String(c.binPath.c_str());
  w.Key("bin_args");
  w.String(c.binArgs.c_str());
  w.Key("environment");
  writeEnv(w, c.environment);
  w.Key("max_input_ledger_offset");
  w.Uint64(c.maxInputLedgerOffset);
  w.Key("consensus");
  w.StartObject();
  w.Key("mode");
  w.String(c.consensusMode.c_str());
  w.Key("roundtime");
  w.Uint64(c.roundTimeMs);
  w.Key("stage_slice");
  w.Uint64(c.stageSlice);
  w.Key("threshold");
  w.Uint64(c.threshold);
  w.EndObject();
  w.Key("npl");
  w.StartObject();
  w.Key("mode");
  w.String(c.nplMode.c_str());
  w.EndObject();
  w.Key("round_limits");
  writeLimits(w, c.roundLimits, true);
  w.Key("sashimono");
  w.StartObject();
  w.Key("periodic_rounds");
  w.Bool(c.periodicRounds);
  w.Key("expose_private_key");
  w.Bool(c.exposePrivateKey);
  w.Key("busy_round_ms");
  w.Uint64(c.busyRoundMs);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString()) + "\n";
}

}  // namespace sashimono::runtime
