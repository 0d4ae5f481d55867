#pragma once
// Small helpers for writing rippled-shaped JSON with rapidjson's Writer and reading parameters.
// Internal to the devnet module.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Rpc.h"

namespace sashimono::devnet::json {

inline void put(JsonWriter& w, const char* k, std::string_view v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
inline void put(JsonWriter& w, const char* k, const char* v) { put(w, k, std::string_view(v)); }
inline void put(JsonWriter& w, const char* k, const std::string& v) { put(w, k, std::string_view(v)); }
inline void put(JsonWriter& w, const char* k, bool v) {
  w.Key(k);
  w.Bool(v);
}
inline void putU(JsonWriter& w, const char* k, std::uint64_t v) {
  w.Key(k);
  w.Uint64(v);
}
inline void putI(JsonWriter& w, const char* k, std::int64_t v) {
  w.Key(k);
  w.Int64(v);
}
inline void putD(JsonWriter& w, const char* k, double v) {
  w.Key(k);
  w.Double(v);
}

// Which ledger a request names.
struct LedgerSel {
  bool current = false;
  std::uint32_t seq = 0;  // when !current
};

// Reads ledger_hash / ledger_index ("validated"|"closed"|"current"|N|"N"); `dflt` when absent.
// Errors: lgrIdxMalformed / invalidParams / lgrNotFound.
std::optional<RpcError> ledgerSelector(Devnet& node, const rapidjson::Value& params, bool defaultCurrent,
                                       LedgerSel& out);

// Reads a required r-address field. Errors: missing field (invalidParams), actMalformed.
std::optional<RpcError> accountField(const rapidjson::Value& params, const char* name,
                                     crypto::AccountId& out);

// Optional typed fields: an error when present with the wrong type.
std::optional<RpcError> optBool(const rapidjson::Value& params, const char* name, bool& out);
std::optional<RpcError> optUint(const rapidjson::Value& params, const char* name, std::uint32_t& out,
                                bool& present);

}  // namespace sashimono::devnet::json
