#include "sashimono/node/HostStatus.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/core/Bytes.h"

namespace sashimono::node {

std::string renderProblems(const std::vector<core::LoggedProblem>& problems) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& p : problems) {
    w.StartObject();
    w.Key("time");
    w.Int64(p.time);
    w.Key("level");
    w.String(p.level.c_str());
    w.Key("message");
    w.String(p.message.c_str());
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

std::string renderHealthRows(const std::vector<InstanceHealthRow>& rows) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& h : rows) {
    w.StartObject();
    w.Key("lease");
    w.String(h.lease.c_str());
    w.Key("state");
    w.String(h.state.c_str());
    w.Key("forSeconds");
    w.Int64(h.forSeconds);
    w.Key("restarts");
    w.Uint64(h.restarts);
    w.Key("detail");
    w.String(h.detail.c_str());
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

void readStatusRow(const std::string& json, std::int64_t updatedAt, StatusView& view) {
  view.reportedAt = updatedAt;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.c_str());
  if (d.HasParseError() || !d.IsObject()) return;
  view.rowJson = json;
  if (d.HasMember("version") && d["version"].IsString()) view.version = d["version"].GetString();
  view.stopped = d.HasMember("stopped") && d["stopped"].IsBool() && d["stopped"].GetBool();
  if (d.HasMember("board") && d["board"].IsObject()) {
    const auto& b = d["board"];
    BoardView bv;
    bv.connected = b.HasMember("connected") && b["connected"].IsBool() && b["connected"].GetBool();
    if (b.HasMember("url") && b["url"].IsString()) bv.url = b["url"].GetString();
    if (b.HasMember("lastLedger") && b["lastLedger"].IsUint()) bv.lastLedger = b["lastLedger"].GetUint();
    if (b.HasMember("cursor") && b["cursor"].IsUint()) bv.cursor = b["cursor"].GetUint();
    if (b.HasMember("reconnects") && b["reconnects"].IsUint64()) bv.reconnects = b["reconnects"].GetUint64();
    if (b.HasMember("lastError") && b["lastError"].IsString()) bv.lastError = b["lastError"].GetString();
    view.board = bv;
  }
  if (d.HasMember("health") && d["health"].IsArray()) {
    for (const auto& h : d["health"].GetArray()) {
      if (!h.IsObject() || !h.HasMember("lease") || !h["lease"].IsString() || !h.HasMember("state") ||
          !h["state"].IsString())
        continue;
      InstanceHealthRow r;
      r.lease = h["lease"].GetString();
      r.state = h["state"].GetString();
      if (h.HasMember("forSeconds") && h["forSeconds"].IsInt64()) r.forSeconds = h["forSeconds"].GetInt64();
      if (h.HasMember("restarts") && h["restarts"].IsUint64()) r.restarts = h["restarts"].GetUint64();
      if (h.HasMember("detail") && h["detail"].IsString()) r.detail = h["detail"].GetString();
      view.health.push_back(std::move(r));
    }
  }
  if (d.HasMember("problems") && d["problems"].IsArray()) {
    for (const auto& p : d["problems"].GetArray()) {
      if (!p.IsObject() || !p.HasMember("time") || !p["time"].IsInt64() || !p.HasMember("level") ||
          !p["level"].IsString() || !p.HasMember("message") || !p["message"].IsString())
        continue;
      view.problems.push_back({p["time"].GetInt64(), p["level"].GetString(), p["message"].GetString()});
    }
  }
}

StatusAssessment assessStatus(const StatusView& v, std::int64_t now, const AttentionLimits& limits) {
  StatusAssessment a;
  a.free = v.instances > v.leases.size() ? v.instances - static_cast<std::uint32_t>(v.leases.size()) : 0;
  if (!v.reportedAt) {
    a.attention.push_back("the node has not run (no status reported)");
  } else if (v.stopped) {
    a.attention.push_back("the node is stopped (a clean stop " + std::to_string(now - *v.reportedAt) +
                          " s ago)");
  } else if (now - *v.reportedAt > limits.staleStatusSeconds) {
    a.attention.push_back("the node is not running: its last status is " +
                          std::to_string(now - *v.reportedAt) + " s old");
  } else {
    a.running = true;
  }
  if (a.running && v.board) {
    const BoardView& b = *v.board;
    if (!b.connected)
      a.attention.push_back("the board is not connected (" +
                            (b.url.empty() ? std::string("no server") : b.url) +
                            (b.lastError.empty() ? "" : ": " + b.lastError) + ")");
    const std::uint32_t done = b.cursor.value_or(0);
    if (b.lastLedger > 0) {
      a.lag = b.lastLedger > done ? b.lastLedger - done : 0;
      if (*a.lag > limits.boardLagLedgers)
        a.attention.push_back("the node is " + std::to_string(*a.lag) + " ledgers behind the board");
    }
  }
  if (v.outbox.oldestAt) {
    a.oldestReplyAge = std::max<std::int64_t>(0, now - *v.outbox.oldestAt);
    if (*a.oldestReplyAge > limits.oldestReplySeconds)
      a.attention.push_back(std::to_string(v.outbox.open) + " payment(s) owed, the oldest for " +
                            std::to_string(*a.oldestReplyAge) +
                            " s (is the account funded? is the board up?)");
  }
  if (a.running)
    for (const auto& h : v.health)
      if (h.state == "failing")
        a.attention.push_back("lease " + h.lease.substr(0, 16) + "'s instance has not served for " +
                              std::to_string(h.forSeconds) + " s despite " + std::to_string(h.restarts) +
                              " restart(s): " + h.detail);
  for (const auto& l : v.leases) {
    const auto age = now - static_cast<std::int64_t>(l.acceptedAt);
    if (l.state == lease::LeaseState::provisioning && age > limits.provisioningSeconds)
      a.attention.push_back("lease " + core::toHex(l.id).substr(0, 16) + " is still provisioning after " +
                            std::to_string(age) + " s");
  }
  std::size_t errors = 0;
  for (const auto& p : v.problems)
    if (p.level != "warning" && now - p.time <= limits.recentErrorSeconds) ++errors;
  if (errors > 0)
    a.attention.push_back(std::to_string(errors) + " error(s) logged in the last " +
                          std::to_string(limits.recentErrorSeconds / 60) + " minutes (below)");
  return a;
}

}  // namespace sashimono::node
