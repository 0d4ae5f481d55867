// libFuzzer target: arbitrary bytes as a devnet WebSocket request, through parsing, dispatch and
// the handlers (submit, tx, account_tx, ledger, subscribe…) against a live in-process Devnet.
// Any crash, sanitizer report or non-JSON answer is a bug.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Not admin: ledger_accept would grow the database on every input.
  std::string out = sashimono::devnet::handleRequest(node(), text, false, nullptr);
  rapidjson::Document d;
  d.Parse(out.c_str(), out.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("status")) std::abort();
  return 0;
}
