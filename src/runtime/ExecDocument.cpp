#include "ExecDocument.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::runtime::detail {
namespace {

using core::Error;

bool hasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

FdLayout layoutFor(const ExecRequest& req) {
  FdLayout l;
  int next = FdLayout::kUserIn + 1;
  if (!req.readonly) l.npl = next++;
  for (std::size_t i = 0; i < req.users.size(); ++i) l.userOut.push_back(next++);
  l.count = next;
  return l;
}

bool isHexPk(std::string_view s) {
  if (s.size() != 66 || s.substr(0, 2) != "ed") return false;
  for (char c : s.substr(2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

core::Status validate(const ExecRequest& req) {
  if (req.binPath.empty() || hasNul(req.binPath)) return Error("contract: bad bin path", EINVAL);
  for (const auto& a : req.binArgs)
    if (hasNul(a)) return Error("contract: an argument contains a NUL byte", EINVAL);
  for (const auto& [k, v] : req.env)
    if (k.empty() || k.find('=') != std::string::npos || hasNul(k) || hasNul(v))
      return Error("contract: bad environment variable name '" + k + "'", EINVAL);
  if (req.cwd.empty() || req.cwd[0] != '/' || hasNul(req.cwd))
    return Error("contract: cwd must be an absolute path: '" + req.cwd + "'", EINVAL);
  if (!req.readOnlyDir.empty() && (req.readOnlyDir[0] != '/' || hasNul(req.readOnlyDir)))
    return Error("contract: readOnlyDir must be an absolute path: '" + req.readOnlyDir + "'", EINVAL);
  if (!req.readOnlySource.empty() &&
      (req.readOnlyDir.empty() || req.readOnlySource[0] != '/' || hasNul(req.readOnlySource)))
    return Error("contract: readOnlySource must be an absolute path, with readOnlyDir", EINVAL);
  if (!req.readonly && !req.lclSeqNo) return Error("contract: a consensus run needs lclSeqNo", EINVAL);
  std::set<std::string_view> seen;
  for (const auto& u : req.users) {
    if (!isHexPk(u.pubkeyHex)) return Error("contract: bad user key '" + u.pubkeyHex + "'", EINVAL);
    if (!seen.insert(u.pubkeyHex).second)
      return Error("contract: user " + u.pubkeyHex + " listed twice", EINVAL);
  }
  seen.clear();
  for (const auto& [pk, activeOn] : req.unl) {
    if (!isHexPk(pk)) return Error("contract: bad UNL key '" + pk + "'", EINVAL);
    if (!seen.insert(pk).second) return Error("contract: UNL key " + pk + " listed twice", EINVAL);
  }
  return {};
}

InputRanges inputRanges(const ExecRequest& req) {
  InputRanges r;
  std::uint64_t off = 0;
  for (const auto& u : req.users) {
    auto& v = r.emplace_back();
    for (const auto& in : u.inputs) {
      v.emplace_back(off, in.size());
      off += in.size();
    }
  }
  return r;
}

std::string renderStdin(const ExecRequest& req, const FdLayout& fds, const InputRanges& ranges) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  str("hp_version");
  str(req.hpVersion);
  str("contract_id");
  str(req.contractId);
  str("public_key");
  str(req.publicKeyHex);
  str("private_key");
  str(req.privateKeyHex);
  str("timestamp");
  w.Uint64(req.timestamp);
  str("readonly");
  w.Bool(req.readonly);
  if (!req.readonly) {
    str("lcl_seq_no");
    w.Uint64(req.lclSeqNo.value_or(0));
    str("lcl_hash");
    str(req.lclHashHex);
    str("npl_fd");
    w.Int(fds.npl);
  }
  str("control_fd");
  w.Int(FdLayout::kControl);
  str("user_in_fd");
  w.Int(FdLayout::kUserIn);
  str("users");
  w.StartObject();
  for (std::size_t i = 0; i < req.users.size(); ++i) {
    str(req.users[i].pubkeyHex);
    w.StartArray();
    w.Int(fds.userOut[i]);
    for (const auto& [off, len] : ranges[i]) {
      w.StartArray();
      w.Uint64(off);
      w.Uint64(len);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  str("unl");
  w.StartObject();
  for (const auto& [pk, activeOn] : req.unl) {
    str(pk);
    w.StartObject();
    str("active_on");
    w.Uint64(activeOn);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

core::Result<statefs::UniqueFd> sealedMemfd(const char* name, const std::vector<core::ByteView>& parts) {
  statefs::UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return Error::fromErrno(std::string("memfd_create ") + name);
  for (auto part : parts) {
    while (!part.empty()) {
      ssize_t n = ::write(fd.get(), part.data(), part.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error::fromErrno(std::string("writing memfd ") + name);
      part = part.subspan(static_cast<std::size_t>(n));
    }
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    return Error::fromErrno(std::string("sealing memfd ") + name);
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Error::fromErrno(std::string("seeking memfd ") + name);
  return fd;
}

}  // namespace sashimono::runtime::detail
