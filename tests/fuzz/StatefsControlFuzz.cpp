// libFuzzer target: the control protocol of a mounted state (statefs::stateControl) on arbitrary
// request lines, the `sync answer <base64>` and `sync to <hex>` verbs included, over a small real
// state (HashingBackend → PassthroughBackend on a temporary directory); and the strict base64
// decoder the sync verbs use.
// Invariants: no crash/UB; every answer is exactly one printable line beginning "ok" or
// "error "; an `ok` to `sync answer` carries base64 of a sync response that decodes; the state
// is never changed (`sync to` has no client to fetch through here: it fails, or is already
// there); a text the base64 decoder accepts encodes back to exactly the same text.
#include <stdlib.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "FuzzFail.h"
#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/PassthroughBackend.h"
#include "sashimono/statefs/SyncMessage.h"

using namespace sashimono;
using namespace sashimono::statefs;
using sashimono::fuzz::fail;

namespace {

struct Fixture {
  std::string dir;
  std::optional<PassthroughBackend> inner;
  std::optional<HashingBackend> state;
  std::optional<ControlProtocol> protocol;
  crypto::Hash256 root{};

  Fixture() {
    char tmpl[] = "/tmp/statefs-control-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = std::string(tmpl) + "/state";
    ::mkdir(dir.c_str(), 0755);
    ::mkdir((dir + "/sub").c_str(), 0755);
    std::ofstream(dir + "/f") << "small";
    std::string big(3 * 65536 + 5, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 65536);
    std::ofstream(dir + "/sub/big", std::ios::binary) << big;
    if (::symlink("f", (dir + "/l").c_str()) != 0) std::abort();
    auto source = SourceDir::open(dir);
    auto tree = StateTree::build(dir);
    if (!source || !tree) std::abort();
    root = tree->root();
    inner.emplace(std::move(source).value());
    state.emplace(*inner, std::move(tree).value());
    auto sync = std::make_shared<ControlSync>();
    sync->stateDir = dir;
    protocol.emplace(stateControl(*state, nullptr, nullptr, sync));
  }
};

void checkBase64(std::string_view text, core::ByteView in) {
  auto d = core::decodeBase64(text);
  if (!d.ok()) {
    if (d.error().message.rfind("base64: ", 0) != 0)
      fail("base64 refusal without its prefix", in, d.error().message);
    return;
  }
  if (core::encodeBase64(*d) != text) fail("base64 is not canonical", in, core::encodeBase64(*d));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  const std::string line(reinterpret_cast<const char*>(data), size);
  core::ByteView in(data, size);
  checkBase64(line, in);
  const std::string answer = fx.protocol->answer(line);
  if (answer.empty() || answer.back() != '\n' || answer.find('\n') != answer.size() - 1)
    fail("not exactly one line", in, answer);
  if (!isControlText(std::string_view(answer).substr(0, answer.size() - 1)))
    fail("answer is not printable", in, answer);
  if (answer != "ok\n" && answer.rfind("ok ", 0) != 0 && answer.rfind("error ", 0) != 0)
    fail("answer is neither ok nor error", in, answer);
  if (line.rfind("sync answer ", 0) == 0 && answer.rfind("ok ", 0) == 0) {
    auto bytes = core::decodeBase64(std::string_view(answer).substr(3, answer.size() - 4));
    if (!bytes.ok() || !decodeSyncResponse(*bytes).ok()) fail("sync answer is not a response", in, answer);
  }
  if (line.rfind("sync to ", 0) == 0) {
    auto now = fx.state->refresh();
    if (!now.ok() || *now != fx.root) fail("sync to changed the state", in, answer);
  }
  return 0;
}
