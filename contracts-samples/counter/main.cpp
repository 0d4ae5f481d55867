// Counter: a number kept in the contract state (the file "counter" in the working directory, which
// is the instance's state directory).
//
// Consensus runs — every input of every user, users in the runtime's order, each user's inputs in
// consensus order:
//   "inc"      adds 1
//   "add N"    adds N (a decimal integer, may be negative; the counter is a signed 64-bit number)
//   other      is answered "error: unknown command"
// Surrounding whitespace is ignored. A command whose result would not fit in 64 bits is answered
// "error: overflow" and changes nothing. If the value changed, it is written atomically (temp file,
// fsync, rename, fsync of the directory) before anything else is sent; then every user who sent at
// least one input gets "counter: <value>".
// Read-only runs (read requests): whatever the request says, the requester gets "counter: <value>";
// nothing is written.
//
// Outputs are plain text that does not look like a JSON value (a bare number would be embedded in
// the JSON output message as a number, which a trusted-keys client cannot verify; see the Hot Pocket
// fact sheet, 2.5/2.6) — hence the "counter: " prefix.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hpc/contract.h"

namespace hpc = sashimono::contract;

namespace {

constexpr const char* kCounterFile = "counter";
constexpr const char* kTempFile = "counter.tmp";

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

enum class Parse { kOk, kInvalid, kOverflow };

// Parses [+-]?[0-9]+ covering all of s.
Parse parse_int64(std::string_view s, std::int64_t& out) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || !digit(s.front())) return Parse::kInvalid;
  }
  if (s.empty() || !(s.front() == '-' || digit(s.front()))) return Parse::kInvalid;
  if (s.front() == '-' && (s.size() < 2 || !digit(s[1]))) return Parse::kInvalid;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (end != s.data() + s.size()) {
    // from_chars stops at the first non-digit; an out-of-range number is consumed whole.
    return Parse::kInvalid;
  }
  if (ec == std::errc::result_out_of_range) return Parse::kOverflow;
  return ec == std::errc() ? Parse::kOk : Parse::kInvalid;
}

// Applies one command to value. Returns an error text to send back, or nullopt on success.
std::optional<std::string> apply_command(std::string_view input, std::int64_t& value) {
  const std::string_view cmd = trim(input);
  std::int64_t delta = 0;
  if (cmd == "inc") {
    delta = 1;
  } else if (cmd.size() > 3 && cmd.substr(0, 3) == "add" && (cmd[3] == ' ' || cmd[3] == '\t')) {
    std::string_view arg = cmd.substr(3);
    while (!arg.empty() && (arg.front() == ' ' || arg.front() == '\t')) arg.remove_prefix(1);
    switch (parse_int64(arg, delta)) {
      case Parse::kOk:
        break;
      case Parse::kOverflow:
        return "error: overflow";
      case Parse::kInvalid:
        return "error: unknown command";
    }
  } else {
    return "error: unknown command";
  }
  std::int64_t next = 0;
  if (__builtin_add_overflow(value, delta, &next)) return "error: overflow";
  value = next;
  return std::nullopt;
}

std::int64_t load_counter() {
  const int fd = ::open(kCounterFile, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return 0;  // fresh state
    fail_errno("open counter");
  }
  std::string text;
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > 1024) break;
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      ::close(fd);
      fail_errno("read counter");
    }
  }
  ::close(fd);
  std::int64_t value = 0;
  if (parse_int64(trim(text), value) != Parse::kOk)
    throw std::runtime_error("state file 'counter' does not hold a number; not touching it");
  return value;
}

// Writes the value so that a crash leaves either the old or the new file, never a torn one.
void store_counter(std::int64_t value) {
  const std::string text = std::to_string(value) + "\n";
  const int fd = ::open(kTempFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("create counter.tmp");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      ::close(fd);
      fail_errno("write counter.tmp");
    }
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail_errno("fsync counter.tmp");
  }
  if (::close(fd) != 0) fail_errno("close counter.tmp");
  if (::rename(kTempFile, kCounterFile) != 0) fail_errno("rename counter.tmp");
  // Make the rename itself durable.
  const int dir = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail_errno("open state directory");
  const int rc = ::fsync(dir);
  ::close(dir);
  if (rc != 0) fail_errno("fsync state directory");
}

std::string reply(std::int64_t value) { return "counter: " + std::to_string(value); }

}  // namespace

int main() {
  try {
    const auto contract = hpc::Contract::from_stdin();
    std::int64_t value = load_counter();

    if (contract.readonly()) {
      for (const auto& user : contract.users())
        if (!user.inputs.empty()) contract.send(user, reply(value));
      return 0;
    }

    const std::int64_t before = value;
    std::vector<const hpc::User*> senders;
    for (const auto& user : contract.users()) {
      if (user.inputs.empty()) continue;
      senders.push_back(&user);
      for (const auto& input : user.inputs) {
        if (auto error = apply_command(contract.read_input(input), value)) contract.send(user, *error);
      }
    }
    if (value != before) store_counter(value);
    for (const auto* user : senders) contract.send(*user, reply(value));
    return 0;
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "counter contract: %s\n", e.what());
    return 1;
  }
}
