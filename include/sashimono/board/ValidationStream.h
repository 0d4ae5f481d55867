#pragma once
// The board's carriers of validator data, parsed to the bytes the node verifies itself
// (ledger::ValidatorSet): nothing else in these messages is trusted.
//
// `validations` stream: {"type": "validationReceived", "data": "<hex>", "validation_public_key",
//   "ledger_index", "ledger_hash", …}. `data` is the whole serialized validation. rippled's
//   NetworkOPs::pubValidation has set it for years (the xrpl.org subscribe page does not list
//   it: xrpl-dev-portal issue #1547, 2022), and xahaud, forked from rippled 1.x, sets it too. A
//   server without it cannot serve a node that verifies validations: the error says so.
// `manifests` stream: {"type": "manifestReceived", "master_key": "n…", "signing_key": "n…"
//   (absent in a revocation), "seq", "signature": "<hex>" (absent in a revocation),
//   "master_signature": "<hex>", "domain"?, "manifest": "<hex>"?}. rippled also sends the
//   serialized manifest as `manifest` (hex); without it the manifest is rebuilt from the other
//   fields (ledger::serializeManifest), which reproduces every manifest without a Version field.
// `manifest` RPC: {"result": {"requested": "n…", "manifest": "<base64>", "details": {"domain",
//   "ephemeral_key", "master_key", "seq"}}}; for a key the server does not know only `requested`.
//
// Pure functions, thread-safe. Errors: "badStream" (a stream message of the wrong type or
// shape), "noValidationData" (a validationReceived without `data`), "badResponse" and the
// server's own tokens for the RPC answer (Responses.h).
#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::board {

struct ValidationReceived {
  core::Bytes blob;                          // the serialized validation (`data`)
  std::string validationPublicKey;           // as the server names the signer, for logs only
  std::optional<std::uint32_t> ledgerIndex;  // as the server says, for logs only
};

struct ManifestReceived {
  core::Bytes blob;      // the serialized manifest
  bool rebuilt = false;  // rebuilt from the listed fields (no `manifest` in the message)
};

struct ManifestDetails {
  std::string masterKey;     // "n…"
  std::string ephemeralKey;  // "n…", empty when the server gives none
  std::string domain;
  std::uint32_t sequence = 0;
};

struct ManifestAnswer {
  std::string requested;
  std::optional<core::Bytes> manifest;     // absent: the server knows no manifest for the key
  std::optional<ManifestDetails> details;  // the server's reading of it, for status only
};

[[nodiscard]] core::Result<ValidationReceived> parseValidationReceived(const rapidjson::Value& message);
[[nodiscard]] core::Result<ManifestReceived> parseManifestReceived(const rapidjson::Value& message);
[[nodiscard]] core::Result<ManifestAnswer> parseManifestResponse(const rapidjson::Value& response);

}  // namespace sashimono::board
