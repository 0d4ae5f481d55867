#pragma once
// Private to the executor: request validation, the contract's fd layout, the stdin JSON document
// (HOTPOCKET-PROTOCOL.md §3.2) and the sealed memfds for stdin and user inputs.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::runtime::detail {

// Fd numbers as the contract sees them.
struct FdLayout {
  static constexpr int kStdin = 0, kStdout = 1, kStderr = 2, kControl = 3, kUserIn = 4;
  int npl = -1;              // 5 in consensus runs
  std::vector<int> userOut;  // one per user, request order
  int count = 0;             // fds 0..count-1 are the contract's
};

FdLayout layoutFor(const ExecRequest& req);

// "ed" + 64 lowercase hex.
bool isHexPk(std::string_view s);

// Everything checkable before any OS call: paths, keys, strings with NUL bytes, uniqueness.
core::Status validate(const ExecRequest& req);

// (offset, length) of each input of each user in the user_in memfd (absolute offsets).
using InputRanges = std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>>;
InputRanges inputRanges(const ExecRequest& req);

// The stdin JSON object (without trailing newline).
std::string renderStdin(const ExecRequest& req, const FdLayout& fds, const InputRanges& ranges);

// A memfd holding `parts` back to back, sealed against any change, positioned at offset 0.
core::Result<statefs::UniqueFd> sealedMemfd(const char* name, const std::vector<core::ByteView>& parts);

}  // namespace sashimono::runtime::detail
