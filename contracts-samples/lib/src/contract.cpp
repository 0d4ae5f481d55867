#include "hpc/contract.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::contract {
namespace {

using rapidjson::Value;

// Upper bound for the runtime's stdin JSON; far above anything a real run produces.
constexpr std::size_t kMaxStdinBytes = 64u * 1024 * 1024;

[[noreturn]] void fail(const std::string& what) { throw ContractError(what); }

[[noreturn]] void fail_errno(const std::string& what) {
  throw ContractError(what + ": " + std::strerror(errno));
}

void ignore_sigpipe() {
  struct sigaction sa {};
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPIPE, &sa, nullptr);
}

bool is_hex_pubkey(std::string_view s) {
  if (s.size() != kHexPubKeyLength) return false;
  if ((s[0] != 'e' && s[0] != 'E') || (s[1] != 'd' && s[1] != 'D')) return false;
  for (std::size_t i = 2; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string as_string(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

const Value* find_member(const Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string required_string(const Value& obj, const char* name) {
  const Value* v = find_member(obj, name);
  if (!v || !v->IsString()) fail(std::string("contract args: '") + name + "' must be a string");
  return as_string(*v);
}

std::string optional_string(const Value& obj, const char* name) {
  const Value* v = find_member(obj, name);
  if (!v || v->IsNull()) return {};
  if (!v->IsString()) fail(std::string("contract args: '") + name + "' must be a string");
  return as_string(*v);
}

std::uint64_t optional_u64(const Value& obj, const char* name, std::uint64_t fallback) {
  const Value* v = find_member(obj, name);
  if (!v) return fallback;
  if (!v->IsUint64()) fail(std::string("contract args: '") + name + "' must be a non-negative integer");
  return v->GetUint64();
}

int fd_value(const Value& v, const std::string& what) {
  if (!v.IsInt() || v.GetInt() < 0) fail("contract args: " + what + " must be a file descriptor number");
  return v.GetInt();
}

int required_fd(const Value& obj, const char* name) {
  const Value* v = find_member(obj, name);
  if (!v) fail(std::string("contract args: '") + name + "' is missing");
  return fd_value(*v, std::string("'") + name + "'");
}

// Waits until fd is ready for `events`; timeout_ms < 0 waits forever. Returns false on timeout.
bool wait_fd(int fd, short events, int timeout_ms) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    int wait = -1;
    if (timeout_ms >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      wait = left > 0 ? static_cast<int>(left) : 0;
    }
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, wait);
    if (r > 0) return true;  // ready, or error/hangup: the next call reports it
    if (r == 0) return false;
    if (errno != EINTR) fail_errno("poll");
  }
}

bool peer_gone(int err) { return err == EPIPE || err == ECONNRESET; }

// Sends one SEQPACKET packet. Returns false if the peer closed the channel.
bool send_packet(int fd, std::string_view data, const char* what) {
  for (;;) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      if (static_cast<std::size_t>(n) != data.size()) fail(std::string(what) + ": short packet write");
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_fd(fd, POLLOUT, -1);
      continue;
    }
    if (peer_gone(errno)) return false;
    fail_errno(std::string(what) + ": send");
  }
}

// Receives one SEQPACKET packet into out. Returns false at end of stream (or an empty packet, which
// the protocol never uses and a SEQPACKET socket cannot tell apart from EOF).
bool recv_packet(int fd, std::string& out, const char* what) {
  out.resize(kMaxSeqPacketSize);
  for (;;) {
    iovec iov{out.data(), out.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n > 0) {
      if (msg.msg_flags & MSG_TRUNC) fail(std::string(what) + ": packet larger than 128 KiB");
      out.resize(static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      out.clear();
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_fd(fd, POLLIN, -1);
      continue;
    }
    if (peer_gone(errno)) {
      out.clear();
      return false;
    }
    fail_errno(std::string(what) + ": recv");
  }
}

std::optional<std::string> read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail_errno("open " + path);
  }
  std::string text;
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      const int err = errno;
      ::close(fd);
      errno = err;
      fail_errno("read " + path);
    }
  }
  ::close(fd);
  return text;
}

template <typename Writer>
void write_string_array(Writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

}  // namespace

// ---- Contract -------------------------------------------------------------------------------------

Contract Contract::from_stdin() {
  if (::isatty(STDIN_FILENO)) fail("standard input is a terminal: contracts must be started by the runtime");
  return from_fd(STDIN_FILENO);
}

Contract Contract::from_fd(int fd) {
  std::string text;
  char buf[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kMaxStdinBytes) fail("contract args: more than 64 MiB on standard input");
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_fd(fd, POLLIN, -1);
    } else if (errno != EINTR) {
      fail_errno("reading contract args");
    }
  }
  return parse(text);
}

Contract Contract::parse(std::string_view json) {
  ignore_sigpipe();

  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    fail(std::string("contract args: invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) fail("contract args: not a JSON object");

  Contract c;
  c.hp_version_ = optional_string(doc, "hp_version");
  c.contract_id_ = required_string(doc, "contract_id");
  c.public_key_ = required_string(doc, "public_key");
  c.private_key_ = optional_string(doc, "private_key");

  const Value* ro = find_member(doc, "readonly");
  if (!ro || !ro->IsBool()) fail("contract args: 'readonly' must be a bool");
  c.readonly_ = ro->GetBool();
  c.timestamp_ = optional_u64(doc, "timestamp", 0);
  c.lcl_seq_no_ = optional_u64(doc, "lcl_seq_no", 0);
  c.lcl_hash_ = optional_string(doc, "lcl_hash");

  c.user_in_fd_ = required_fd(doc, "user_in_fd");
  c.control_fd_ = required_fd(doc, "control_fd");
  if (const Value* npl = find_member(doc, "npl_fd"); npl && !npl->IsNull())
    c.npl_fd_ = fd_value(*npl, "'npl_fd'");

  const Value* users = find_member(doc, "users");
  if (!users || !users->IsObject()) fail("contract args: 'users' must be an object");
  for (auto m = users->MemberBegin(); m != users->MemberEnd(); ++m) {
    User u;
    u.pubkey = as_string(m->name);
    const Value& arr = m->value;
    const std::string where = "users['" + u.pubkey + "']";
    if (!arr.IsArray() || arr.Empty()) fail("contract args: " + where + " must be [out_fd, [off,len]…]");
    u.out_fd = fd_value(arr[0], where + "[0]");
    for (rapidjson::SizeType i = 1; i < arr.Size(); ++i) {
      const Value& pair = arr[i];
      if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsUint64() || !pair[1].IsUint64())
        fail("contract args: " + where + " input " + std::to_string(i) + " must be [offset, length]");
      u.inputs.push_back(InputRef{pair[0].GetUint64(), pair[1].GetUint64()});
    }
    c.users_.push_back(std::move(u));
  }

  if (const Value* unl = find_member(doc, "unl"); unl && !unl->IsNull()) {
    if (!unl->IsObject()) fail("contract args: 'unl' must be an object");
    for (auto m = unl->MemberBegin(); m != unl->MemberEnd(); ++m) {
      UnlNode n;
      n.pubkey = as_string(m->name);
      if (!m->value.IsObject()) fail("contract args: unl['" + n.pubkey + "'] must be an object");
      n.active_on = optional_u64(m->value, "active_on", 0);
      c.unl_.push_back(std::move(n));
    }
  }
  return c;
}

const User* Contract::find_user(std::string_view pubkey) const {
  for (const auto& u : users_)
    if (u.pubkey == pubkey) return &u;
  return nullptr;
}

const UnlNode* Contract::find_unl(std::string_view pubkey) const {
  for (const auto& n : unl_)
    if (n.pubkey == pubkey) return &n;
  return nullptr;
}

std::string Contract::read_input(const InputRef& input) const {
  if (input.offset > static_cast<std::uint64_t>(INT64_MAX) - input.length) fail("input offset out of range");
  std::string data(input.length, '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(user_in_fd_, data.data() + done, data.size() - done, static_cast<off_t>(input.offset + done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      fail("input at offset " + std::to_string(input.offset) + " runs past the end of user_in_fd");
    } else if (errno != EINTR) {
      fail_errno("reading input");
    }
  }
  return data;
}

bool Contract::send(const User& user, std::string_view payload) const {
  return send_to_fd(user.out_fd, payload);
}

bool Contract::send_to_fd(int out_fd, std::string_view payload) {
  static const bool sigpipe_ignored = (ignore_sigpipe(), true);  // also when no Contract was parsed
  (void)sigpipe_ignored;
  if (payload.size() > 0xFFFFFFFFu) fail("output larger than 4 GiB cannot be framed");
  const auto len = static_cast<std::uint32_t>(payload.size());
  unsigned char header[4] = {static_cast<unsigned char>(len >> 24), static_cast<unsigned char>(len >> 16),
                             static_cast<unsigned char>(len >> 8), static_cast<unsigned char>(len)};
  iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  iovec* cur = iov;
  int count = 2;
  while (count > 0) {
    const ssize_t n = ::writev(out_fd, cur, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_fd(out_fd, POLLOUT, -1);
        continue;
      }
      if (peer_gone(errno)) return false;
      fail_errno("writing user output");
    }
    // Skip what was written; a partially written iovec is advanced in place.
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= cur->iov_len) {
      left -= cur->iov_len;
      ++cur;
      --count;
    }
    if (count > 0) {
      cur->iov_base = static_cast<char*>(cur->iov_base) + left;
      cur->iov_len -= left;
    }
  }
  return true;
}

bool Contract::npl_send(std::string_view data) const {
  if (readonly_ || npl_fd_ < 0) fail("NPL is not available in read-only runs");
  if (data.empty()) fail("NPL message must not be empty");
  if (data.size() > kMaxSeqPacketSize) fail("NPL message larger than 128 KiB");
  return send_packet(npl_fd_, data, "NPL");
}

std::optional<NplMessage> Contract::npl_receive(int timeout_ms) {
  if (readonly_ || npl_fd_ < 0) fail("NPL is not available in read-only runs");
  if (npl_closed_) return std::nullopt;
  if (!wait_fd(npl_fd_, POLLIN, timeout_ms)) return std::nullopt;
  NplMessage msg;
  if (!recv_packet(npl_fd_, msg.sender, "NPL")) {
    npl_closed_ = true;
    return std::nullopt;
  }
  if (!is_hex_pubkey(msg.sender))
    fail("NPL: expected a sender public key packet, got " + std::to_string(msg.sender.size()) +
         " bytes of something else");
  // The data packet follows its sender packet back to back.
  if (!recv_packet(npl_fd_, msg.data, "NPL")) {
    npl_closed_ = true;
    return std::nullopt;
  }
  return msg;
}

std::string peer_changeset_json(const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("type");
  w.String("peer_changeset");
  w.Key("add");
  write_string_array(w, add);
  w.Key("remove");
  write_string_array(w, remove);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

bool Contract::update_peers(const std::vector<std::string>& add,
                            const std::vector<std::string>& remove) const {
  if (control_fd_ < 0) fail("no control channel");
  const std::string msg = peer_changeset_json(add, remove);
  if (msg.size() > kMaxSeqPacketSize) fail("peer_changeset larger than 128 KiB");
  return send_packet(control_fd_, msg, "control");
}

// ---- Patch config ---------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_patch(const std::string& what) { fail("patch config: " + what); }

void read_str(const Value& obj, const char* name, std::string& out) {
  if (const Value* v = find_member(obj, name)) {
    if (!v->IsString()) bad_patch(std::string("'") + name + "' must be a string");
    out = as_string(*v);
  }
}

void read_u64(const Value& obj, const char* name, std::uint64_t& out) {
  if (const Value* v = find_member(obj, name)) {
    if (!v->IsUint64()) bad_patch(std::string("'") + name + "' must be a non-negative integer");
    out = v->GetUint64();
  }
}

const Value* read_section(const Value& obj, const char* name) {
  const Value* v = find_member(obj, name);
  if (v && !v->IsObject()) bad_patch(std::string("'") + name + "' must be an object");
  return v;
}

using Alloc = rapidjson::Document::AllocatorType;

Value str_value(const std::string& s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Replaces or adds obj[name] = value.
void put(Value& obj, const char* name, Value value, Alloc& a) {
  auto it = obj.FindMember(name);
  if (it != obj.MemberEnd()) {
    it->value = value;
  } else {
    obj.AddMember(Value(name, a), value, a);
  }
}

// Returns obj[name] as an object, replacing a non-object or creating it.
Value& section(Value& obj, const char* name, Alloc& a) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) {
    obj.AddMember(Value(name, a), Value(rapidjson::kObjectType), a);
    it = obj.FindMember(name);
  } else if (!it->value.IsObject()) {
    it->value.SetObject();
  }
  return it->value;
}

}  // namespace

PatchConfig parse_patch_config(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError())
    bad_patch(std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) bad_patch("not a JSON object");

  PatchConfig c;
  read_str(doc, "version", c.version);
  if (const Value* unl = find_member(doc, "unl")) {
    if (!unl->IsArray()) bad_patch("'unl' must be an array");
    for (const auto& k : unl->GetArray()) {
      if (!k.IsString()) bad_patch("'unl' must hold strings");
      c.unl.push_back(as_string(k));
    }
  }
  read_str(doc, "bin_path", c.bin_path);
  read_str(doc, "bin_args", c.bin_args);
  if (const Value* env = read_section(doc, "environment")) {
    for (auto m = env->MemberBegin(); m != env->MemberEnd(); ++m) {
      if (!m->value.IsString()) bad_patch("'environment' values must be strings");
      c.environment[as_string(m->name)] = as_string(m->value);
    }
  }
  read_u64(doc, "max_input_ledger_offset", c.max_input_ledger_offset);
  if (const Value* s = read_section(doc, "consensus")) {
    read_str(*s, "mode", c.consensus.mode);
    read_u64(*s, "roundtime", c.consensus.roundtime);
    read_u64(*s, "stage_slice", c.consensus.stage_slice);
    read_u64(*s, "threshold", c.consensus.threshold);
  }
  if (const Value* s = read_section(doc, "npl")) read_str(*s, "mode", c.npl.mode);
  if (const Value* s = read_section(doc, "round_limits")) {
    auto& r = c.round_limits;
    read_u64(*s, "user_input_bytes", r.user_input_bytes);
    read_u64(*s, "user_output_bytes", r.user_output_bytes);
    read_u64(*s, "npl_output_bytes", r.npl_output_bytes);
    read_u64(*s, "proc_cpu_seconds", r.proc_cpu_seconds);
    read_u64(*s, "proc_mem_bytes", r.proc_mem_bytes);
    read_u64(*s, "proc_ofd_count", r.proc_ofd_count);
    read_u64(*s, "exec_timeout", r.exec_timeout);
  }
  return c;
}

PatchConfig read_patch_config(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) bad_patch(path + " does not exist");
  return parse_patch_config(*text);
}

void validate_patch_config(const PatchConfig& c) {
  if (c.version.empty()) bad_patch("version is empty");
  if (c.unl.empty()) bad_patch("unl is empty");
  for (const auto& k : c.unl)
    if (!is_hex_pubkey(k)) bad_patch("invalid UNL public key '" + k + "'");
  if (c.bin_path.empty()) bad_patch("bin_path is empty");
  auto mode_ok = [](const std::string& m) { return m == "public" || m == "private"; };
  if (!mode_ok(c.consensus.mode)) bad_patch("consensus.mode must be public or private");
  if (c.consensus.roundtime < 1 || c.consensus.roundtime > 3600000)
    bad_patch("consensus.roundtime must be 1..3600000 ms");
  if (c.consensus.stage_slice < 1 || c.consensus.stage_slice > 33)
    bad_patch("consensus.stage_slice must be 1..33 %");
  if (c.consensus.threshold < 1 || c.consensus.threshold > 100)
    bad_patch("consensus.threshold must be 1..100 %");
  if (!mode_ok(c.npl.mode)) bad_patch("npl.mode must be public or private");
}

std::string patch_config_json(const PatchConfig& c, std::string_view base) {
  rapidjson::Document doc;
  if (!base.empty()) doc.Parse(base.data(), base.size());
  if (base.empty() || doc.HasParseError() || !doc.IsObject()) doc.SetObject();
  auto& a = doc.GetAllocator();

  put(doc, "version", str_value(c.version, a), a);
  Value unl(rapidjson::kArrayType);
  for (const auto& k : c.unl) unl.PushBack(str_value(k, a), a);
  put(doc, "unl", std::move(unl), a);
  put(doc, "bin_path", str_value(c.bin_path, a), a);
  put(doc, "bin_args", str_value(c.bin_args, a), a);
  Value env(rapidjson::kObjectType);
  for (const auto& [k, v] : c.environment) env.AddMember(str_value(k, a), str_value(v, a), a);
  put(doc, "environment", std::move(env), a);
  put(doc, "max_input_ledger_offset", Value(c.max_input_ledger_offset), a);

  Value& cons = section(doc, "consensus", a);
  put(cons, "mode", str_value(c.consensus.mode, a), a);
  put(cons, "roundtime", Value(c.consensus.roundtime), a);
  put(cons, "stage_slice", Value(c.consensus.stage_slice), a);
  put(cons, "threshold", Value(c.consensus.threshold), a);
  put(section(doc, "npl", a), "mode", str_value(c.npl.mode, a), a);
  Value& rl = section(doc, "round_limits", a);
  const auto& r = c.round_limits;
  put(rl, "user_input_bytes", Value(r.user_input_bytes), a);
  put(rl, "user_output_bytes", Value(r.user_output_bytes), a);
  put(rl, "npl_output_bytes", Value(r.npl_output_bytes), a);
  put(rl, "proc_cpu_seconds", Value(r.proc_cpu_seconds), a);
  put(rl, "proc_mem_bytes", Value(r.proc_mem_bytes), a);
  put(rl, "proc_ofd_count", Value(r.proc_ofd_count), a);
  put(rl, "exec_timeout", Value(r.exec_timeout), a);

  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 4);
  doc.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

void write_patch_config(const PatchConfig& config, const std::string& path) {
  validate_patch_config(config);
  const auto base = read_whole_file(path);
  const std::string text = patch_config_json(config, base ? std::string_view(*base) : std::string_view());

  // Rewritten in place (the runtime reads it only after the process has exited; the state
  // directory's parent need not be writable for the contract).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("open " + path);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      const int err = errno;
      ::close(fd);
      errno = err;
      fail_errno("write " + path);
    }
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail_errno("fsync " + path);
  }
  if (::close(fd) != 0) fail_errno("close " + path);
}

}  // namespace sashimono::contract
