#include "sashimono/host/TenantRecord.h"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "sashimono/host/ImageVersions.h"
#include "sashimono/host/Validate.h"

namespace sashimono::host {

const char* stateName(TenantState s) {
  switch (s) {
    case TenantState::kCreating:
      return "creating";
    case TenantState::kReady:
      return "ready";
    case TenantState::kDestroying:
      return "destroying";
    case TenantState::kOrphaned:
      return "orphaned";
  }
  return "unknown";
}

core::Result<TenantState> parseTenantState(std::string_view text) {
  for (auto s :
       {TenantState::kCreating, TenantState::kReady, TenantState::kDestroying, TenantState::kOrphaned})
    if (text == stateName(s)) return s;
  return core::Error("unknown tenant state '" + std::string(text.substr(0, 32)) + "'");
}

std::string renderRecord(const TenantRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  auto u64 = [&](const char* k, std::uint64_t v) {
    w.Key(k);
    w.Uint64(v);
  };
  auto strs = [&](const char* k, const std::vector<std::string>& v) {
    w.Key(k);
    w.StartArray();
    for (auto& x : v) w.String(x.c_str(), static_cast<rapidjson::SizeType>(x.size()));
    w.EndArray();
  };
  w.StartObject();
  str("name", r.spec.name);
  str("state", stateName(r.state));
  str("step", r.step);
  str("image", r.spec.image);
  str("profile", profileName(r.profile));
  u64("cpuQuotaUs", r.spec.limits.cpuQuotaUs);
  u64("cpuPeriodUs", r.spec.limits.cpuPeriodUs);
  u64("memoryBytes", r.spec.limits.memoryBytes);
  u64("swapBytes", r.spec.limits.swapBytes);
  u64("pids", r.spec.limits.pids);
  u64("diskBytes", r.spec.diskBytes);
  strs("args", r.spec.args);
  strs("env", r.spec.env);
  w.Key("ports");
  w.StartArray();
  for (auto& p : r.ports) {
    w.StartObject();
    str("role", p.role);
    str("proto", protoName(p.proto));
    u64("host", p.hostPort);
    u64("container", p.containerPort);
    w.EndObject();
  }
  w.EndArray();
  if (!r.rootfs.empty()) str("rootfs", r.rootfs);
  if (r.argsFromImage) {
    w.Key("argsFromImage");
    w.Bool(true);
  }
  if (r.upgrade) {
    w.Key("upgrade");
    w.StartObject();
    str("previousImage", r.upgrade->image);
    str("previousRootfs", r.upgrade->rootfs);
    strs("previousArgs", r.upgrade->args);
    w.Key("deadline");
    w.Int64(r.upgrade->deadline);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString()) + "\n";
}

namespace {

core::Status inRecord(core::Status st, const char* field) {
  if (!st) return st.error().context(std::string("tenant record: ") + field);
  return {};
}

// rootfs, argsFromImage and upgrade: absent in older records.
core::Status parseVersionFields(const rapidjson::Document& d, TenantRecord& r) {
  if (d.HasMember("rootfs")) {
    if (!d["rootfs"].IsString()) return core::Error("tenant record: field 'rootfs' is not a string");
    r.rootfs = d["rootfs"].GetString();
    SASHI_TRY(inRecord(validateRootfsPath(r.rootfs), "rootfs"));
  }
  if (d.HasMember("argsFromImage")) {
    if (!d["argsFromImage"].IsBool())
      return core::Error("tenant record: field 'argsFromImage' is not a boolean");
    r.argsFromImage = d["argsFromImage"].GetBool();
  }
  if (!d.HasMember("upgrade")) return {};
  const auto& u = d["upgrade"];
  if (!u.IsObject() || !u.HasMember("previousImage") || !u["previousImage"].IsString() ||
      !u.HasMember("previousRootfs") || !u["previousRootfs"].IsString() || !u.HasMember("previousArgs") ||
      !u["previousArgs"].IsArray() || !u.HasMember("deadline") || !u["deadline"].IsInt64())
    return core::Error("tenant record: malformed field 'upgrade'");
  PendingUpgrade p;
  p.image = u["previousImage"].GetString();
  p.rootfs = u["previousRootfs"].GetString();
  p.deadline = u["deadline"].GetInt64();
  for (const auto& a : u["previousArgs"].GetArray()) {
    if (!a.IsString()) return core::Error("tenant record: field 'upgrade.previousArgs' has a non-string");
    p.args.emplace_back(a.GetString());
    SASHI_TRY(inRecord(validateArgument(p.args.back()), "upgrade.previousArgs"));
  }
  SASHI_TRY(inRecord(validateImageName(p.image), "upgrade.previousImage"));
  if (!p.rootfs.empty()) SASHI_TRY(inRecord(validateRootfsPath(p.rootfs), "upgrade.previousRootfs"));
  r.upgrade = std::move(p);
  return {};
}

}  // namespace

core::Result<TenantRecord> parseRecord(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return core::Error("tenant record is not a JSON object");
  TenantRecord r;
  auto str = [&](const char* k, std::string& out) -> core::Status {
    if (!d.HasMember(k) || !d[k].IsString())
      return core::Error(std::string("tenant record: field '") + k + "' missing");
    out = d[k].GetString();
    return {};
  };
  auto u64 = [&](const char* k, std::uint64_t& out) -> core::Status {
    if (!d.HasMember(k) || !d[k].IsUint64())
      return core::Error(std::string("tenant record: field '") + k + "' missing");
    out = d[k].GetUint64();
    return {};
  };
  auto strs = [&](const char* k, std::vector<std::string>& out) -> core::Status {
    if (!d.HasMember(k) || !d[k].IsArray())
      return core::Error(std::string("tenant record: field '") + k + "' missing");
    for (auto& v : d[k].GetArray()) {
      if (!v.IsString()) return core::Error(std::string("tenant record: field '") + k + "' has a non-string");
      out.emplace_back(v.GetString());
    }
    return {};
  };
  std::string state;
  SASHI_TRY(str("name", r.spec.name));
  SASHI_TRY(str("state", state));
  SASHI_TRY(str("step", r.step));
  SASHI_TRY(str("image", r.spec.image));
  if (d.HasMember("profile")) {
    std::string profile;
    SASHI_TRY(str("profile", profile));
    auto p = parseProfile(profile);
    if (!p) return p.error().context("tenant record");
    r.profile = *p;
  }
  SASHI_TRY(u64("cpuQuotaUs", r.spec.limits.cpuQuotaUs));
  SASHI_TRY(u64("cpuPeriodUs", r.spec.limits.cpuPeriodUs));
  SASHI_TRY(u64("memoryBytes", r.spec.limits.memoryBytes));
  SASHI_TRY(u64("swapBytes", r.spec.limits.swapBytes));
  SASHI_TRY(u64("pids", r.spec.limits.pids));
  SASHI_TRY(u64("diskBytes", r.spec.diskBytes));
  SASHI_TRY(strs("args", r.spec.args));
  SASHI_TRY(strs("env", r.spec.env));
  auto parsed = parseTenantState(state);
  if (!parsed || *parsed == TenantState::kOrphaned)  // orphaned is never in a record
    return core::Error("tenant record: unknown state '" + state + "'");
  r.state = *parsed;
  if (!d.HasMember("ports") || !d["ports"].IsArray())
    return core::Error("tenant record: field 'ports' missing");
  for (auto& p : d["ports"].GetArray()) {
    if (!p.IsObject() || !p.HasMember("role") || !p["role"].IsString() || !p.HasMember("proto") ||
        !p["proto"].IsString() || !p.HasMember("host") || !p["host"].IsUint() || !p.HasMember("container") ||
        !p["container"].IsUint() || p["host"].GetUint() > 65535 || p["container"].GetUint() > 65535)
      return core::Error("tenant record: malformed port entry");
    PortForward f;
    f.role = p["role"].GetString();
    f.proto = std::string(p["proto"].GetString()) == "udp" ? Proto::kUdp : Proto::kTcp;
    f.hostPort = static_cast<std::uint16_t>(p["host"].GetUint());
    f.containerPort = static_cast<std::uint16_t>(p["container"].GetUint());
    r.ports.push_back(f);
  }
  SASHI_TRY(parseVersionFields(d, r));
  SASHI_TRY(validateSpec(r.spec));
  return r;
}

core::Status validateSpec(const TenantSpec& s) {
  SASHI_TRY(validateTenantName(s.name));
  SASHI_TRY(validateImageName(s.image));
  for (auto& a : s.args) SASHI_TRY(validateArgument(a));
  for (auto& e : s.env) SASHI_TRY(validateEnvEntry(e));
  if (s.args.size() > 64) return core::Error("too many container arguments (max 64)");
  if (s.env.size() > 64) return core::Error("too many environment entries (max 64)");
  const auto& l = s.limits;
  if (l.memoryBytes < (64ull << 20))
    return core::Error("memory limit below 64 MiB (the tenant's daemons need it)");
  if (l.pids < 64) return core::Error("pids limit below 64 (the tenant's daemons need them)");
  if (l.cpuPeriodUs < 1000 || l.cpuPeriodUs > 1000000)
    return core::Error("cpu period must be 1000..1000000 us");
  if (l.cpuQuotaUs != 0 && l.cpuQuotaUs < 1000)
    return core::Error("cpu quota must be 0 (unlimited) or >= 1000 us");
  if (s.diskBytes < (16ull << 20)) return core::Error("disk limit below 16 MiB");
  return {};
}

}  // namespace sashimono::host
