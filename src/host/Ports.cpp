#include "sashimono/host/Ports.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include <rapidjson/document.h>

namespace sashimono::host {

const char* protoName(Proto p) { return p == Proto::kTcp ? "tcp" : "udp"; }

core::Status validatePortRanges(const PortRanges& r) {
  const std::pair<const char*, PortRange> all[] = {
      {"user", r.user}, {"peer", r.peer}, {"general tcp", r.generalTcp}, {"general udp", r.generalUdp}};
  for (auto& [n, a] : all) {
    if (a.first < 1024 || a.last < a.first)
      return core::Error(std::string(n) + " port range " + std::to_string(a.first) + "-" +
                         std::to_string(a.last) + " is invalid (need 1024 <= first <= last)");
    for (auto& [m, b] : all)
      if (&a != &b && std::string(n) != m && a.first <= b.last && b.first <= a.last)
        return core::Error(std::string(n) + " and " + m + " port ranges overlap");
  }
  return {};
}

core::Result<std::vector<PortForward>> allocatePorts(const PortRanges& r,
                                                     const std::set<std::uint16_t>& taken) {
  SASHI_TRY(validatePortRanges(r));
  std::vector<PortForward> out;
  auto pick = [&](const char* name, PortRange range, unsigned count, const char* role, Proto proto,
                  std::uint16_t containerBase, bool fixed) -> core::Status {
    unsigned got = 0;
    for (unsigned p = range.first; p <= range.last && got < count; ++p) {
      if (taken.count(static_cast<std::uint16_t>(p))) continue;
      auto cport = static_cast<std::uint16_t>(fixed ? containerBase : containerBase + got);
      out.push_back({role, proto, static_cast<std::uint16_t>(p), cport});
      ++got;
    }
    if (got < count)
      return core::Error(std::string("no free port left in the ") + name + " range " +
                         std::to_string(range.first) + "-" + std::to_string(range.last));
    return {};
  };
  SASHI_TRY(pick("user", r.user, 1, "user", Proto::kTcp, kContainerUserPort, true));
  SASHI_TRY(pick("peer", r.peer, 1, "peer", Proto::kTcp, kContainerPeerPort, true));
  SASHI_TRY(
      pick("general tcp", r.generalTcp, r.generalTcpCount, "tcp", Proto::kTcp, kContainerTcpBase, false));
  SASHI_TRY(
      pick("general udp", r.generalUdp, r.generalUdpCount, "udp", Proto::kUdp, kContainerUdpBase, false));
  return out;
}

std::string renderPortRequest(const PortForward& f, const std::string& parentIp) {
  return std::string("{\"proto\":\"") + protoName(f.proto) + "\",\"parentIP\":\"" + parentIp +
         "\",\"parentPort\":" + std::to_string(f.hostPort) +
         ",\"childPort\":" + std::to_string(f.containerPort) + "}";
}

core::Result<int> parsePortResponseId(std::string_view body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("id") || !d["id"].IsInt())
    return core::Error("unexpected rootlesskit API answer: " + std::string(body.substr(0, 200)));
  return d["id"].GetInt();
}

core::Result<std::pair<int, std::string>> parseHttpResponse(std::string_view raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return core::Error("not an HTTP response");
  int status = 0;
  auto [p, ec] = std::from_chars(raw.data() + 9, raw.data() + 12, status);
  if (ec != std::errc()) return core::Error("bad HTTP status line");
  auto hdrEnd = raw.find("\r\n\r\n");
  if (hdrEnd == std::string_view::npos) return core::Error("truncated HTTP response");
  std::string body(raw.substr(hdrEnd + 4));
  // Chunked bodies (Go uses them for larger answers): join the chunks.
  std::string headers(raw.substr(0, hdrEnd));
  for (auto& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    std::string joined;
    size_t pos = 0;
    for (;;) {
      auto eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (len == 0) break;
      joined += body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    body = joined;
  }
  return std::make_pair(status, body);
}

namespace {

core::Result<std::pair<int, std::string>> httpUnix(const std::string& socketPath, const std::string& method,
                                                   const std::string& target, const std::string& body) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::Error::fromErrno("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof addr.sun_path) {
    ::close(fd);
    return core::Error("socket path too long: " + socketPath);
  }
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return core::Error::fromErrno("cannot connect to " + socketPath, e);
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: rootlesskit\r\nConnection: close\r\n";
  if (!body.empty())
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return core::Error::fromErrno("cannot write to " + socketPath, e);
    }
    off += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return core::Error::fromErrno("cannot read from " + socketPath, e);
    }
    if (n == 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parseHttpResponse(resp);
}

class RootlessKitPortForwarder final : public PortForwarder {
 public:
  core::Status add(const std::string& apiSocket, const std::vector<PortForward>& forwards,
                   const std::string& parentIp) override {
    for (auto& f : forwards) {
      auto r = httpUnix(apiSocket, "POST", "/v1/ports", renderPortRequest(f, parentIp));
      if (!r) return r.error().context("forwarding port " + std::to_string(f.hostPort));
      if (r->first / 100 != 2)
        return core::Error("forwarding " + std::string(protoName(f.proto)) + " port " +
                           std::to_string(f.hostPort) + " failed: HTTP " + std::to_string(r->first) + ": " +
                           r->second);
      auto id = parsePortResponseId(r->second);
      if (!id) return id.error();
    }
    return {};
  }

  core::Result<std::string> listRaw(const std::string& apiSocket) override {
    auto r = httpUnix(apiSocket, "GET", "/v1/ports", "");
    if (!r) return r.error();
    if (r->first != 200) return core::Error("listing ports: HTTP " + std::to_string(r->first));
    return r->second;
  }
};

}  // namespace

std::unique_ptr<PortForwarder> makeRootlessKitPortForwarder() {
  return std::make_unique<RootlessKitPortForwarder>();
}

}  // namespace sashimono::host
