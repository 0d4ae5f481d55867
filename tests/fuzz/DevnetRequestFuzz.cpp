// libFuzzer target: arbitrary bytes as a devnet WebSocket request, through parsing, dispatch and
// the handlers (submit, tx, account_tx, ledger, subscribe, manifest, and the admin commands
// fee_set and validator_rotate…) against a live in-process Devnet. Any crash, sanitizer report or
// non-JSON answer is a bug.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <rapidjson/document.h>
#include <unistd.h>

#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/Rpc.h"

namespace {

// The devnet's data directory, removed at exit (after the devnet, which was made after it).
struct DataDir {
  std::string path;
  ~DataDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& dataDir() {
  static const DataDir d = [] {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-fuzz-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) std::abort();
    return DataDir{t};
  }();
  return d.path;
}

sashimono::devnet::Devnet& node() {
  static std::unique_ptr<sashimono::devnet::Devnet> n = [] {
    sashimono::devnet::DevnetOptions o;
    o.dataDir = dataDir();
    o.genesisSeed = "sEdTM1uX8pu2do5XvTnutH6HsouMaM2";
    o.ledgerInterval = std::chrono::milliseconds(0);
    auto r = sashimono::devnet::Devnet::open(o);
    if (!r.ok()) std::abort();
    return std::move(*r);
  }();
  return *n;
}

// Admin, except for ledger_accept, which would grow the database on every input.
bool asAdmin(std::string_view text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) return true;
  for (const char* k : {"command", "method"}) {
    auto it = d.FindMember(k);
    if (it != d.MemberEnd() && it->value.IsString() &&
        std::string_view(it->value.GetString(), it->value.GetStringLength()) == "ledger_accept")
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string out = sashimono::devnet::handleRequest(node(), text, asAdmin(text), nullptr);
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("status")) std::abort();
  return 0;
}
