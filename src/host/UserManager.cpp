#include "sashimono/host/UserManager.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "FileUtil.h"

namespace sashimono::host {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

template <typename T>
bool toNum(std::string_view s, T& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

template <typename F>
void forLines(std::string_view text, F f) {
  for (auto line : split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    f(line);
  }
}

class LinuxUserManager final : public UserManager {
 public:
  LinuxUserManager(ProcessRunner& r, UserFiles f) : runner_(r), files_(std::move(f)) {}

  core::Result<UserInfo> create(const std::string& name, const std::string& home) override {
    ProcessSpec p;
    p.argv = {"useradd",      "--no-create-home", "--home-dir",       home, "--shell", "/usr/sbin/nologin",
              "--user-group", "--comment",        "sashimono tenant", name};
    p.env = {std::string("PATH=") + kSafePath};
    auto r = runChecked(runner_, p);
    if (!r) return r.error().context("creating user " + name);
    auto u = lookup(name);
    if (!u) return u.error();
    if (!*u) return core::Error("user " + name + " missing after useradd");
    if ((*u)->subuid.count == 0 || (*u)->subgid.count == 0)
      return core::Error("user " + name +
                         " got no subordinate uid/gid range (check SUB_UID_COUNT in /etc/login.defs)");
    return std::move(**u);
  }

  core::Status createAlias(const std::string& name, uid_t uid, gid_t gid) override {
    ProcessSpec p;
    p.argv = {"useradd",
              "--no-create-home",
              "--home-dir",
              "/nonexistent",
              "--shell",
              "/usr/sbin/nologin",
              "--no-user-group",
              "--uid",
              std::to_string(uid),
              "--gid",
              std::to_string(gid),
              "-K",
              "SUB_UID_COUNT=0",
              "-K",
              "SUB_GID_COUNT=0",
              "--comment",
              "sashimono contract",
              name};
    p.env = {std::string("PATH=") + kSafePath};
    auto r = runChecked(runner_, p);
    if (!r) return r.error().context("creating user " + name);
    return {};
  }

  core::Result<std::optional<UserInfo>> lookup(const std::string& name) override {
    auto pw = detail::readFile(files_.passwd);
    if (!pw) return pw.error();
    for (auto& e : parsePasswd(*pw)) {
      if (e.name != name) continue;
      UserInfo u{e.name, e.uid, e.gid, e.home, e.shell, {}, {}};
      if (auto su = detail::readFile(files_.subuid); su)
        if (auto r = parseSubId(*su, name)) u.subuid = *r;
      if (auto sg = detail::readFile(files_.subgid); sg)
        if (auto r = parseSubId(*sg, name)) u.subgid = *r;
      return std::optional<UserInfo>(std::move(u));
    }
    return std::optional<UserInfo>();
  }

  core::Status remove(const std::string& name) override {
    ProcessSpec p;
    p.env = {std::string("PATH=") + kSafePath};
    auto u = lookup(name);
    if (!u) return u.error();
    if (*u) {
      p.argv = {"userdel", name};
      auto r = runChecked(runner_, p);
      if (!r) return r.error().context("removing user " + name);
    }
    // A group of the same name left behind (userdel keeps it only if someone else uses it).
    auto gr = detail::readFile(files_.group);
    if (!gr) return gr.error();
    for (auto& g : parseFirstFields(*gr)) {
      if (g != name) continue;
      p.argv = {"groupdel", name};
      auto r = runChecked(runner_, p);
      if (!r) return r.error().context("removing group " + name);
    }
    return {};
  }

  core::Status killProcesses(const UserInfo& u) override {
    auto owned = [&](uid_t id) {
      return id == u.uid || (u.subuid.count && id >= u.subuid.start && id < u.subuid.start + u.subuid.count);
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      int found = 0;
      DIR* d = ::opendir("/proc");
      if (!d) return core::Error::fromErrno("cannot list /proc");
      while (auto* e = ::readdir(d)) {
        pid_t pid = 0;
        std::string_view n = e->d_name;
        if (!toNum(n, pid) || pid <= 1) continue;
        auto st = detail::readFile("/proc/" + std::string(n) + "/status");
        if (!st) continue;
        if (st->find("State:\tZ") != std::string::npos) continue;  // zombies hold nothing
        auto ids = parseStatusUids(*st);
        if (std::any_of(ids.begin(), ids.end(), owned)) {
          ::kill(pid, SIGKILL);
          ++found;
        }
      }
      ::closedir(d);
      if (!found) return {};
      if (std::chrono::steady_clock::now() > deadline)
        return core::Error("processes of " + u.name + " survive SIGKILL");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  core::Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::vector<std::string> out;
    for (const auto* file : {&files_.passwd, &files_.group, &files_.subuid, &files_.subgid}) {
      auto t = detail::readFile(*file);
      if (!t) return t.error();
      for (auto& n : parseFirstFields(*t))
        if (n.rfind(prefix, 0) == 0 && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    return out;
  }

 private:
  ProcessRunner& runner_;
  UserFiles files_;
};

}  // namespace

std::vector<PasswdEntry> parsePasswd(std::string_view text) {
  std::vector<PasswdEntry> out;
  forLines(text, [&](std::string_view line) {
    auto f = split(line, ':');
    if (f.size() != 7) return;
    PasswdEntry e;
    e.name = std::string(f[0]);
    if (e.name.empty() || !toNum(f[2], e.uid) || !toNum(f[3], e.gid)) return;
    e.home = std::string(f[5]);
    e.shell = std::string(f[6]);
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<uid_t> parseStatusUids(std::string_view status) {
  std::vector<uid_t> out;
  for (auto line : split(status, '\n')) {
    if (line.rfind("Uid:", 0) != 0) continue;
    for (auto f : split(line.substr(4), '\t')) {
      uid_t u = 0;
      if (toNum(f, u)) out.push_back(u);
    }
  }
  return out;
}

std::optional<SubIdRange> parseSubId(std::string_view text, std::string_view name) {
  std::optional<SubIdRange> out;
  forLines(text, [&](std::string_view line) {
    if (out) return;
    auto f = split(line, ':');
    if (f.size() != 3 || f[0] != name) return;
    SubIdRange r;
    if (!toNum(f[1], r.start) || !toNum(f[2], r.count)) return;
    out = r;
  });
  return out;
}

std::vector<std::string> parseFirstFields(std::string_view text) {
  std::vector<std::string> out;
  forLines(text, [&](std::string_view line) {
    auto c = line.find(':');
    if (c != std::string_view::npos && c > 0) out.emplace_back(line.substr(0, c));
  });
  return out;
}

std::unique_ptr<UserManager> makeLinuxUserManager(ProcessRunner& runner, UserFiles files) {
  return std::make_unique<LinuxUserManager>(runner, std::move(files));
}

}  // namespace sashimono::host
