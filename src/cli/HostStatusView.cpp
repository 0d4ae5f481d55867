#include "HostStatusView.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "Command.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::cli {

namespace {

constexpr int kNeedsAttention = 3;

std::string utc(std::int64_t t) {
  char buf[32];
  std::time_t tt = t;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void renderJson(const node::HostConfig& c, const node::StatusView& v, const node::StatusAssessment& a,
                std::int64_t now) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("ok");
  w.Bool(a.attention.empty());
  w.Key("attention");
  w.StartArray();
  for (const auto& s : a.attention) w.String(s.c_str());
  w.EndArray();
  w.Key("running");
  w.Bool(a.running);
  w.Key("statusAge");
  if (v.reportedAt)
    w.Int64(now - *v.reportedAt);
  else
    w.Null();
  w.Key("version");
  w.String(v.version.c_str());
  w.Key("instances");
  w.Uint(v.instances);
  w.Key("free");
  w.Uint(a.free);
  w.Key("leases");
  w.Uint64(v.leases.size());
  w.Key("cursor");
  if (v.cursor)
    w.Uint(*v.cursor);
  else
    w.Null();
  w.Key("board");
  if (v.board) {
    w.StartObject();
    w.Key("connected");
    w.Bool(v.board->connected);
    w.Key("url");
    w.String(v.board->url.c_str());
    w.Key("lastLedger");
    w.Uint(v.board->lastLedger);
    w.Key("lag");
    if (a.lag)
      w.Uint(*a.lag);
    else
      w.Null();
    w.Key("reconnects");
    w.Uint64(v.board->reconnects);
    w.Key("lastError");
    w.String(v.board->lastError.c_str());
    w.Key("verifying");
    w.Bool(v.board->verifying);
    w.Key("quorumLedger");
    w.Uint(v.board->quorumLedger);
    w.Key("ledgersVerified");
    w.Uint64(v.board->ledgersVerified);
    w.Key("verifyMicros");
    w.Uint64(v.board->verifyMicros);
    w.Key("conflicts");
    w.Uint64(v.board->conflicts);
    const std::string faults = node::renderBoardFaults(v.board->faults);
    w.Key("faults");
    w.RawValue(faults.c_str(), faults.size(), rapidjson::kArrayType);
    w.Key("avoided");
    w.StartArray();
    for (const auto& u : v.board->avoided) w.String(u.c_str());
    w.EndArray();
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("outbox");
  w.StartObject();
  w.Key("open");
  w.Uint64(v.outbox.open);
  w.Key("submitted");
  w.Uint64(v.outbox.signedOpen);
  w.Key("oldestAge");
  if (a.oldestReplyAge)
    w.Int64(*a.oldestReplyAge);
  else
    w.Null();
  w.EndObject();
  w.Key("fees");  // as the running node last saw them
  if (v.fees) {
    const std::string fees = node::renderFees(*v.fees);
    w.RawValue(fees.c_str(), fees.size(), rapidjson::kObjectType);
  } else {
    w.Null();
  }
  w.Key("funds");
  if (v.funds) {
    const std::string funds = node::renderFunds(*v.funds);
    w.RawValue(funds.c_str(), funds.size(), rapidjson::kObjectType);
  } else {
    w.Null();
  }
  w.Key("outboxOpen");  // kept for scripts written against the first version
  w.Uint64(v.outbox.open);
  w.Key("leaseList");
  w.StartArray();
  for (const auto& l : v.leases) {
    w.StartObject();
    w.Key("id");
    w.String(core::toHex(l.id).c_str());
    w.Key("state");
    w.String(lease::leaseStateName(l.state));
    w.Key("owner");
    w.String(crypto::encodeAddress(l.owner).c_str());
    w.Key("image");
    w.String(l.request.image.c_str());
    if (l.instance) {
      w.Key("userPort");
      w.Uint(l.instance->userPort);
      w.Key("peerPort");
      w.Uint(l.instance->peerPort);
    }
    w.Key("expiresAt");
    w.Uint64(l.expiresAt);
    w.EndObject();
  }
  w.EndArray();
  const std::string health = node::renderHealthRows(v.health);
  w.Key("health");
  w.RawValue(health.c_str(), health.size(), rapidjson::kArrayType);
  const std::string problems = node::renderProblems(v.problems);
  w.Key("problems");
  w.RawValue(problems.c_str(), problems.size(), rapidjson::kArrayType);
  w.Key("metrics");
  w.String(c.metricsAddress.c_str());
  w.Key("node");  // the running node's own row, as it wrote it
  if (v.rowJson.empty())
    w.Null();
  else
    w.RawValue(v.rowJson.c_str(), v.rowJson.size(), rapidjson::kObjectType);
  w.EndObject();
  std::cout << sb.GetString() << "\n";
}

void renderText(const node::HostConfig& c, const node::StatusView& v, const node::StatusAssessment& a,
                std::int64_t now) {
  std::cout << "node:      ";
  if (!v.reportedAt)
    std::cout << "never ran\n";
  else
    std::cout << (a.running   ? "running"
                  : v.stopped ? "STOPPED"
                              : "NOT RUNNING")
              << " (status " << now - *v.reportedAt << " s old)"
              << (v.version.empty() ? "" : ", version " + v.version) << "\n";
  std::cout << "board:     ";
  if (!v.board) {
    std::cout << "unknown\n";
  } else {
    const auto& b = *v.board;
    std::cout << (b.connected ? "connected to " : "DISCONNECTED, last ") << (b.url.empty() ? "?" : b.url);
    if (b.lastLedger) std::cout << ", ledger " << b.lastLedger;
    if (a.lag) std::cout << ", " << *a.lag << " behind";
    std::cout << ", " << b.reconnects << " reconnect(s)";
    if (!b.lastError.empty()) std::cout << "; last error: " << b.lastError;
    std::cout << "\n";
    std::cout << "trust:     ";
    if (b.verifying) {
      std::cout << "validators: quorum-signed ledger " << b.quorumLedger << ", " << b.ledgersVerified
                << " ledger(s) checked (last " << b.verifyMicros << " us)";
      if (!b.avoided.empty()) {
        std::cout << "; avoiding";
        for (const auto& u : b.avoided) std::cout << " " << u;
      }
    } else {
      std::cout << "the boards (no validators configured: docs/NETWORKS.md)";
    }
    std::cout << "\n";
  }
  std::cout << "capacity:  " << v.instances << " instances, " << a.free << " free\n";
  std::cout << "cursor:    " << (v.cursor ? std::to_string(*v.cursor) : "none") << "\n";
  std::cout << "outbox:    " << v.outbox.open << " payment(s) owed";
  if (a.oldestReplyAge)
    std::cout << ", oldest " << *a.oldestReplyAge << " s, " << v.outbox.signedOpen << " submitted";
  std::cout << "\n";
  if (v.fees) {
    const auto& f = *v.fees;
    std::cout << "fees:      ";
    if (f.fee)
      std::cout << "open-ledger " << f.fee->openLedger << " drops (base " << f.fee->base << "), ";
    else
      std::cout << "open-ledger fee unknown, ";
    const bool above = f.fee && f.fee->openLedger > f.ceiling;
    std::cout << (above ? "ABOVE the ceiling " : "ceiling ") << f.ceiling << " drops";
    if (f.waiting > 0)
      std::cout << ": " << f.waiting << " payment(s) wait for fees"
                << (f.waitingSince
                        ? " since " + std::to_string(std::max<std::int64_t>(0, now - *f.waitingSince)) + " s"
                        : std::string());
    std::cout << "\n";
  }
  if (v.funds) {
    const auto& f = *v.funds;
    std::cout << "funds:     ";
    if (f.unfunded) {
      std::cout << "the host account is NOT FUNDED";
    } else if (f.state == "unknown") {
      std::cout << "not read yet";
    } else {
      std::cout << "balance " << f.balance << " drops, reserve " << f.reserve << " (" << f.reserveBase
                << " + " << f.ownerCount << " x " << f.reserveIncrement << "), spendable " << f.spendable;
      if (f.replyCost > 0)
        std::cout << ", pays for "
                  << std::max<std::int64_t>(0, f.spendable) / static_cast<std::int64_t>(f.replyCost)
                  << " replies at " << f.replyCost << " drops";
      if (f.ledger) std::cout << " (ledger " << f.ledger << ")";
    }
    if (f.state == "low") std::cout << "; LOW";
    if (f.state == "exhausted") std::cout << "; CANNOT PAY FOR A REPLY";
    std::cout << "\n";
  }
  std::cout << "metrics:   " << (c.metricsAddress.empty() ? "off" : "http://" + c.metricsAddress + "/metrics")
            << "\n";
  std::cout << "leases:\n";
  if (v.leases.empty()) std::cout << "  (none)\n";
  for (const auto& l : v.leases) {
    std::cout << "  " << core::toHex(l.id) << "  " << lease::leaseStateName(l.state) << "  owner "
              << crypto::encodeAddress(l.owner) << "  image " << l.request.image;
    if (l.instance)
      std::cout << "  user port " << l.instance->userPort << "  peer port " << l.instance->peerPort;
    if (l.expiresAt)
      std::cout << "  expires in " << (static_cast<std::int64_t>(l.expiresAt) > now ? l.expiresAt - now : 0)
                << " s";
    std::cout << "\n";
  }
  if (!v.health.empty()) {
    std::cout << "instance health:\n";
    for (const auto& h : v.health)
      std::cout << "  " << h.lease.substr(0, 16) << "  " << h.state
                << (h.state == "healthy" ? "" : " for " + std::to_string(h.forSeconds) + " s") << ", "
                << h.restarts << " restart(s)" << (h.detail.empty() ? "" : ": " + h.detail) << "\n";
  }
  if (!v.problems.empty()) {
    std::cout << "recent problems:\n";
    for (const auto& p : v.problems)
      std::cout << "  " << utc(p.time) << "  " << p.level << "  " << p.message << "\n";
  }
  if (a.attention.empty()) {
    std::cout << "all well\n";
  } else {
    std::cout << "NEEDS ATTENTION:\n";
    for (const auto& s : a.attention) std::cout << "  - " << s << "\n";
  }
}

}  // namespace

int showHostStatus(const std::string& configPath, bool json) {
  const std::string cmd = "host status";
  auto c = node::loadHostConfig(configPath);
  if (!c) return failure(cmd, c.error().message);
  if (!std::filesystem::exists(c->storePath()))
    return failure(cmd, "no node store at " + c->storePath() + " (never run)");
  auto store = node::NodeStore::open(c->storePath(), true);
  if (!store) return failure(cmd, store.error().message);
  node::StatusView v;
  v.instances = c->offer.instances;
  auto leases = store->leases();
  if (!leases) return failure(cmd, leases.error().message);
  v.leases = std::move(*leases);
  auto outbox = store->outboxSummary();
  if (!outbox) return failure(cmd, outbox.error().message);
  v.outbox = *outbox;
  if (auto cur = store->cursor(); cur.ok()) v.cursor = *cur;
  if (auto st = store->status(); st.ok() && *st) node::readStatusRow((*st)->json, (*st)->updatedAt, v);
  const auto now = static_cast<std::int64_t>(lease::SystemClock().now());
  const auto a = node::assessStatus(v, now);
  if (json)
    renderJson(*c, v, a, now);
  else
    renderText(*c, v, a, now);
  return a.attention.empty() ? 0 : kNeedsAttention;
}

}  // namespace sashimono::cli
