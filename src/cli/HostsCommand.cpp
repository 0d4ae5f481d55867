// `sashimono hosts`: the live hosts announced on a registry account (client/Discovery.h), printed.
#include <ctime>
#include <iostream>
#include <sstream>

#include "ClientOptions.h"
#include "Command.h"
#include "LeaseOutput.h"
#include "sashimono/client/Discovery.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {
namespace {

int listHosts(const ClientOptions& o) {
  const std::string cmd = "hosts";
  if (o.registry.empty()) return usageError(cmd, "--registry rADDRESS is required");
  auto session = connectBoard(o, {});
  if (!session) return failure(cmd, session.error().message);
  auto txs = (*session)->history(o.registry);
  (*session)->stop();
  if (!txs) return failure(cmd, "account_tx " + o.registry + ": " + txs.error().message);
  auto hosts = client::announcements(*txs, std::nullopt);
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));

  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  putStr(w, "registry", o.registry);
  w.Key("hosts");
  w.StartArray();
  std::size_t shown = 0;
  std::ostringstream text;
  for (const auto& [account, h] : hosts) {
    const auto& a = h.a;
    const auto l = client::liveness(a, now, o.staleSeconds);
    if (!o.all && !l.live()) continue;
    ++shown;
    w.StartObject();
    putStr(w, "account", account);
    putStr(w, "key", protocol::formatEd25519Key(a.key));
    putStr(w, "host", a.host);
    putStr(w, "version", a.version);
    putU64(w, "instances", a.instances);
    putU64(w, "free", a.free);
    putU64(w, "price", a.price);
    putU64(w, "moment_seconds", a.momentSeconds);
    putU64(w, "max_moments", a.maxMoments);
    putU64(w, "cpu_millis", a.cpuMillis);
    putU64(w, "memory_mib", a.memoryMiB);
    putU64(w, "swap_mib", a.swapMiB);
    putU64(w, "disk_mib", a.diskMiB);
    w.Key("images");
    w.StartArray();
    for (const auto& i : a.images) w.String(i.c_str(), static_cast<rapidjson::SizeType>(i.size()));
    w.EndArray();
    putU64(w, "heartbeat_seconds", a.heartbeatSeconds);
    putU64(w, "time", a.time);
    putU64(w, "age_seconds", l.ageSeconds);
    putU64(w, "ledger", h.ledger);
    w.EndObject();
    text << account << "  " << a.host << "  free " << a.free << "/" << a.instances << "  price " << a.price
         << " drops/" << a.momentSeconds << "s  images";
    for (const auto& i : a.images) text << " " << i;
    text << "  seen " << l.ageSeconds << "s ago\n";
  }
  w.EndArray();
  putU64(w, "hidden", hosts.size() - shown);
  w.EndObject();
  if (o.json) {
    std::cout << sb.GetString() << "\n";
  } else {
    std::cout << text.str();
    if (shown == 0) std::cout << "no live hosts in " << o.registry << "\n";
    if (hosts.size() > shown)
      std::cout << "(" << hosts.size() - shown << " stale hosts hidden; --all shows them)\n";
  }
  return 0;
}

int runHosts(const std::vector<std::string>& args) {
  ClientOptions o;
  const CommandSpec spec = clientCommand(
      "hosts", o,
      {{.name = "",
        .synopsis = "--registry rADDR [--board URL]... [--stale SECONDS] [--all] [--timeout SECONDS] "
                    "[--ca-file PEM] [--json]",
        .run = calling(&listHosts, o)}},
      "  without --timeout, gives up after 5 s if it cannot reach any board\n");
  return dispatchVerb(spec, args);
}

const CommandRegistrar hostsReg{
    {"hosts", "list hosts announced on a registry account", &runHosts, false, true}};

}  // namespace
}  // namespace sashimono::cli
