// libFuzzer target: arbitrary bytes as a board's validationReceived / manifestReceived stream
// message or `manifest` RPC answer, through the three parsers of ValidationStream.h. A board is
// not trusted: any crash or sanitizer report is a bug, and so is a parsed blob over the bounds
// the parsers promise.
#include <cstdint>
#include <cstdlib>

#include <rapidjson/document.h>

#include "sashimono/board/ValidationStream.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(reinterpret_cast<const char*>(data), size);
  if (d.HasParseError()) return 0;
  using namespace sashimono;
  if (auto v = board::parseValidationReceived(d); v.ok()) {
    if (v->blob.empty() || v->blob.size() > ledger::kMaxValidationBytes) std::abort();
    (void)ledger::parseValidation(v->blob);
  }
  if (auto m = board::parseManifestReceived(d); m.ok()) {
    if (m->blob.empty()) std::abort();
    (void)ledger::parseManifest(m->blob);
  }
  if (auto a = board::parseManifestResponse(d); a.ok()) {
    if (a->manifest && a->manifest->size() > ledger::kMaxManifestBytes) std::abort();
    if (a->manifest) (void)ledger::parseManifest(*a->manifest);
  }
  return 0;
}
