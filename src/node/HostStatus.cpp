#include "sashimono/node/HostStatus.h"

#include <algorithm>

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

std::string renderBoardFaults(const std::vector<BoardView::Fault>& faults) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& f : faults) {
    w.StartObject();
    w.Key("url");
    w.String(f.url.c_str());
    w.Key("at");
    w.Int64(f.at);
    w.Key("evidence");
    w.String(f.evidence.c_str());
    w.Key("count");
    w.Uint64(f.count);
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

std::string renderFees(const FeesRow& f) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  if (f.fee) {
    w.Key("base");
    w.Uint64(f.fee->base);
    w.Key("openLedger");
    w.Uint64(f.fee->openLedger);
    w.Key("minimum");
    w.Uint64(f.fee->minimum);
  }
  w.Key("ceiling");
  w.Uint64(f.ceiling);
  w.Key("waiting");
  w.Uint64(f.waiting);
  w.Key("waitingSince");
  if (f.waitingSince)
    w.Int64(*f.waitingSince);
  else
    w.Null();
  w.EndObject();
  return sb.GetString();
}

std::string renderFunds(const FundsRow& f) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("state");
  w.String(f.state.c_str());
  w.Key("unfunded");
  w.Bool(f.unfunded);
  w.Key("ledger");
  w.Uint(f.ledger);
  w.Key("balance");
  w.Uint64(f.balance);
  w.Key("ownerCount");
  w.Uint(f.ownerCount);
  w.Key("reserveBase");
  w.Uint64(f.reserveBase);
  w.Key("reserveIncrement");
  w.Uint64(f.reserveIncrement);
  w.Key("reserve");
  w.Uint64(f.reserve);
  w.Key("spendable");
  w.Int64(f.spendable);
  w.Key("replyCost");
  w.Uint64(f.replyCost);
  w.Key("lowReplies");
  w.Uint64(f.lowReplies);
  w.EndObject();
  return sb.GetString();
}

namespace {

// Readers of the row's fields: absent or of another type → the default.
std::uint64_t u64(const rapidjson::Value& o, const char* key, std::uint64_t otherwise = 0) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : otherwise;
}

std::optional<std::int64_t> i64(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

FeesRow readFees(const rapidjson::Value& o) {
  FeesRow f;
  if (o.HasMember("openLedger") && o["openLedger"].IsUint64())
    f.fee = FeeView{u64(o, "base"), u64(o, "openLedger"), u64(o, "minimum")};
  f.ceiling = u64(o, "ceiling");
  f.waiting = u64(o, "waiting");
  f.waitingSince = i64(o, "waitingSince");
  return f;
}

FundsRow readFunds(const rapidjson::Value& o) {
  FundsRow f;
  if (o.HasMember("state") && o["state"].IsString()) f.state = o["state"].GetString();
  f.unfunded = o.HasMember("unfunded") && o["unfunded"].IsBool() && o["unfunded"].GetBool();
  f.ledger = static_cast<std::uint32_t>(std::min<std::uint64_t>(u64(o, "ledger"), UINT32_MAX));
  f.balance = u64(o, "balance");
  f.ownerCount = static_cast<std::uint32_t>(std::min<std::uint64_t>(u64(o, "ownerCount"), UINT32_MAX));
  f.reserveBase = u64(o, "reserveBase");
  f.reserveIncrement = u64(o, "reserveIncrement");
  f.reserve = u64(o, "reserve");
  f.spendable = i64(o, "spendable").value_or(0);
  f.replyCost = u64(o, "replyCost");
  f.lowReplies = u64(o, "lowReplies");
  return f;
}

}  // namespace

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
    bv.verifying = b.HasMember("verifying") && b["verifying"].IsBool() && b["verifying"].GetBool();
    if (b.HasMember("quorumLedger") && b["quorumLedger"].IsUint())
      bv.quorumLedger = b["quorumLedger"].GetUint();
    if (b.HasMember("ledgersVerified") && b["ledgersVerified"].IsUint64())
      bv.ledgersVerified = b["ledgersVerified"].GetUint64();
    if (b.HasMember("verifyMicros") && b["verifyMicros"].IsUint64())
      bv.verifyMicros = b["verifyMicros"].GetUint64();
    if (b.HasMember("conflicts") && b["conflicts"].IsUint64()) bv.conflicts = b["conflicts"].GetUint64();
    if (b.HasMember("faults") && b["faults"].IsArray()) {
      for (const auto& f : b["faults"].GetArray()) {
        if (!f.IsObject() || !f.HasMember("url") || !f["url"].IsString() || !f.HasMember("evidence") ||
            !f["evidence"].IsString())
          continue;
        BoardView::Fault x;
        x.url = f["url"].GetString();
        x.evidence = f["evidence"].GetString();
        if (f.HasMember("at") && f["at"].IsInt64()) x.at = f["at"].GetInt64();
        if (f.HasMember("count") && f["count"].IsUint64()) x.count = f["count"].GetUint64();
        bv.faults.push_back(std::move(x));
      }
    }
    if (b.HasMember("avoided") && b["avoided"].IsArray())
      for (const auto& u : b["avoided"].GetArray())
        if (u.IsString()) bv.avoided.emplace_back(u.GetString());
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
  if (d.HasMember("fees") && d["fees"].IsObject()) view.fees = readFees(d["fees"]);
  if (d.HasMember("funds") && d["funds"].IsObject()) view.funds = readFunds(d["funds"]);
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
    for (const auto& f : b.faults)
      if (now - f.at <= limits.boardFaultSeconds)
        a.attention.push_back("board " + f.url + " served something that failed a check (" +
                              std::to_string(f.count) + " time(s), the last " + std::to_string(now - f.at) +
                              " s ago): " + f.evidence);
    if (b.conflicts > 0)
      a.attention.push_back(std::to_string(b.conflicts) +
                            " validation(s) of a trusted validator conflict with its own earlier ones "
                            "(see the log)");
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
  if (a.running && v.fees && v.fees->waiting > 0 && v.fees->waitingSince) {
    const auto waited = std::max<std::int64_t>(0, now - *v.fees->waitingSince);
    if (waited > limits.feeWaitSeconds)
      a.attention.push_back(
          "replies wait for fees: " + std::to_string(v.fees->waiting) + " payment(s) unsigned for " +
          std::to_string(waited) + " s, the open-ledger fee" +
          (v.fees->fee ? " " + std::to_string(v.fees->fee->openLedger) + " drops" : std::string()) +
          " is above the ceiling of " + std::to_string(v.fees->ceiling) + " drops (fees.maxDrops)");
  }
  if (a.running && v.funds) {
    const FundsRow& f = *v.funds;
    const std::string money = std::to_string(f.spendable) + " drops spendable (balance " +
                              std::to_string(f.balance) + ", reserve " + std::to_string(f.reserve) + ")";
    if (f.state == "exhausted")
      a.attention.push_back(f.unfunded
                                ? std::string("the host account is not funded: it cannot pay for a reply")
                                : "the host account cannot pay for a reply: " + money + ", a reply costs " +
                                      std::to_string(f.replyCost) + " drops");
    else if (f.state == "low")
      a.attention.push_back("balance low: " + money + " pay for " +
                            std::to_string(f.replyCost ? std::max<std::int64_t>(0, f.spendable) /
                                                             static_cast<std::int64_t>(f.replyCost)
                                                       : 0) +
                            " replies at " + std::to_string(f.replyCost) + " drops, fewer than " +
                            std::to_string(f.lowReplies) + " (fees.lowBalanceReplies)");
  }
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
