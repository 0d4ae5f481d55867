// `sashimono hosts`: the live hosts announced on a registry account (client/Discovery.h), printed.
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ClientOptions.h"
#include "Command.h"
#include "LeaseOutput.h"
#include "sashimono/client/Discovery.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::cli {
namespace {

// An announcement's fields as the listing shows them: snake_case keys (momentSeconds →
// moment_seconds, memoryMiB → memory_mib: a capital followed by a lower-case letter starts a
// word), drops as numbers.
class ListingFields final : public protocol::AnnouncementFields {
 public:
  explicit ListingFields(JsonWriter& w) : w_(w) {}
  void text(std::string_view name, std::string_view value) override {
    putStr(w_, key(name).c_str(), std::string(value));
  }
  void integer(std::string_view name, std::uint64_t value) override { putU64(w_, key(name).c_str(), value); }
  void drops(std::string_view name, protocol::Drops value) override { putU64(w_, key(name).c_str(), value); }
  void list(std::string_view name, const std::vector<std::string>& values) override {
    w_.Key(key(name).c_str());
    w_.StartArray();
    for (const auto& v : values) w_.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    w_.EndArray();
  }

 private:
  static std::string key(std::string_view name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      const bool upper = c >= 'A' && c <= 'Z';
      if (upper && i > 0 && i + 1 < name.size() && name[i + 1] >= 'a' && name[i + 1] <= 'z') out += '_';
      out += upper ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
  }
  JsonWriter& w_;
};

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
    ListingFields fields(w);
    protocol::visitAnnouncement(a, fields);
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
