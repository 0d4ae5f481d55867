// Pure logic of the host module: parsers, validators, renderers, allocators.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <rapidjson/document.h>

#include "sashimono/host/Cgroups.h"
#include "sashimono/host/ContainerRuntime.h"
#include "sashimono/host/Disks.h"
#include "sashimono/host/ImageProfile.h"
#include "sashimono/host/Ports.h"
#include "sashimono/host/TenantDaemon.h"
#include "sashimono/host/TenantRecord.h"
#include "sashimono/host/UserManager.h"
#include "sashimono/host/Validate.h"

namespace sashimono::host {
namespace {

TEST(Validate, TenantNames) {
  for (auto ok : {"a", "abc-12", "t0", "abcdefghijklmnopqrst"})
    EXPECT_TRUE(validateTenantName(ok).ok()) << ok;
  for (auto bad : {"", "A", "1a", "-a", "a-", "a_b", "a b", "a/b", "a.b", "abcdefghijklmnopqrstu", "a\n"})
    EXPECT_FALSE(validateTenantName(bad).ok()) << bad;
  EXPECT_EQ(validateTenantName("Bad").error().message,
            "invalid tenant name 'Bad': must start with a lower-case letter");
}

TEST(Validate, ImagesEnvArgsPrefixes) {
  EXPECT_TRUE(validateImageName("instance").ok());
  EXPECT_TRUE(validateImageName("hp-1.2_x").ok());
  for (auto bad : {"", ".x", "..", "a..b", "a/b", "A", "x y"})
    EXPECT_FALSE(validateImageName(bad).ok()) << bad;
  EXPECT_TRUE(validateEnvEntry("KEY=some value").ok());
  EXPECT_TRUE(validateEnvEntry("K_1=").ok());
  for (auto bad : {"KEY", "=v", "key=v", "1K=v", "K=\x01", "K-1=v"})
    EXPECT_FALSE(validateEnvEntry(bad).ok()) << bad;
  EXPECT_TRUE(validateArgument("--port=8080").ok());
  EXPECT_FALSE(validateArgument("").ok());
  EXPECT_FALSE(validateArgument(std::string("a\0b", 3)).ok());
  EXPECT_TRUE(validateUserPrefix("sashi-").ok());
  EXPECT_FALSE(validateUserPrefix("Sashi").ok());
  EXPECT_FALSE(validateUserPrefix("waytoolongprefix").ok());
}

TEST(UserFilesParsing, PasswdSubidGroupAndStatus) {
  auto pw = parsePasswd(
      "root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nsashi-a:x:1001:1002:t:/h/a:/usr/sbin/nologin\n");
  ASSERT_EQ(pw.size(), 2u);
  EXPECT_EQ(pw[1].name, "sashi-a");
  EXPECT_EQ(pw[1].uid, 1001u);
  EXPECT_EQ(pw[1].gid, 1002u);
  EXPECT_EQ(pw[1].home, "/h/a");
  EXPECT_EQ(pw[1].shell, "/usr/sbin/nologin");
  auto sub = parseSubId("x:100000:65536\nsashi-a:165536:65536\n", "sashi-a");
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->start, 165536u);
  EXPECT_EQ(sub->count, 65536u);
  EXPECT_FALSE(parseSubId("sashi-ab:1:2\n", "sashi-a").has_value());
  EXPECT_FALSE(parseSubId("sashi-a:x:2\n", "sashi-a").has_value());
  EXPECT_EQ(parseFirstFields("a:x:1:\nb:x:2:\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parseStatusUids("Name:\tsh\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t5\t5\t5\n"),
            (std::vector<uid_t>{1000, 1001, 1002, 1003}));
}

const char* kHybridMountinfo =
    "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    "34 30 0:30 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
    "35 30 0:31 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset\n";

TEST(CgroupLogic, DetectsV1HybridAndV2) {
  auto m = parseCgroupMounts(kHybridMountinfo);
  EXPECT_EQ(m.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_EQ(m.v1.count("cpuset"), 0u);
  ASSERT_TRUE(m.v2.has_value());
  EXPECT_EQ(*chooseCgroupVersion(m, ""), CgroupVersion::kV1);

  auto v2 = parseCgroupMounts("40 1 0:40 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_TRUE(v2.v1.empty());
  EXPECT_EQ(*v2.v2, "/sys/fs/cgroup");
  EXPECT_EQ(*chooseCgroupVersion(v2, "cpuset cpu io memory hugetlb pids rdma misc\n"), CgroupVersion::kV2);
  auto missing = chooseCgroupVersion(v2, "cpu io\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("memory pids"), std::string::npos) << missing.error().message;
  EXPECT_FALSE(chooseCgroupVersion(CgroupMounts{}, "").ok());
}

TEST(CgroupLogic, LimitWritesForBothVersions) {
  CgroupLimits l;
  l.cpuQuotaUs = 50000;
  l.cpuPeriodUs = 100000;
  l.memoryBytes = 128ull << 20;
  l.swapBytes = 64ull << 20;
  l.pids = 300;
  auto v1 = limitWrites(CgroupVersion::kV1, l);
  ASSERT_EQ(v1.size(), 5u);
  EXPECT_EQ(v1[1].file, "cpu.cfs_quota_us");
  EXPECT_EQ(v1[1].value, "50000");
  EXPECT_EQ(v1[2].file, "memory.limit_in_bytes");
  EXPECT_EQ(v1[3].file, "memory.memsw.limit_in_bytes");
  EXPECT_EQ(v1[3].value, std::to_string(192ull << 20));
  EXPECT_TRUE(v1[3].optional);
  EXPECT_EQ(v1[4].value, "300");
  auto v2 = limitWrites(CgroupVersion::kV2, l);
  ASSERT_EQ(v2.size(), 4u);
  EXPECT_EQ(v2[0].file, "cpu.max");
  EXPECT_EQ(v2[0].value, "50000 100000");
  EXPECT_EQ(v2[1].value, std::to_string(128ull << 20));
  EXPECT_EQ(v2[2].file, "memory.swap.max");
  EXPECT_EQ(v2[2].value, std::to_string(64ull << 20));
  l.cpuQuotaUs = 0;
  EXPECT_EQ(limitWrites(CgroupVersion::kV2, l)[0].value, "max 100000");
  EXPECT_EQ(limitWrites(CgroupVersion::kV1, l)[1].value, "-1");
}

TEST(CgroupLogic, SubtreeControlProcsAndOom) {
  EXPECT_EQ(subtreeControlAdditions(""), "+cpu +memory +pids");
  EXPECT_EQ(subtreeControlAdditions("cpu io memory\n"), "+pids");
  EXPECT_EQ(subtreeControlAdditions("cpuset cpu memory pids\n"), "");
  EXPECT_EQ(parseCgroupProcs("12\n345\n\n7\n"), (std::vector<pid_t>{12, 345, 7}));
  EXPECT_EQ(parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3u);
  EXPECT_EQ(parseOomKills("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n"), 2u);
  EXPECT_EQ(parseOomKills(""), 0u);
}

TEST(MountLogic, ParsesMountinfoWithEscapes) {
  auto m = parseMountInfo(
      "36 25 7:0 / /var/lib/t/homes/a rw,nosuid - ext4 /dev/loop0 rw\n"
      "37 36 0:50 / /var/lib/t/homes/a/state rw - fuse.statefs sashimono-statefs rw,user_id=1\n"
      "38 25 0:51 / /mnt/with\\040space rw - tmpfs tmpfs rw\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].source, "/dev/loop0");
  EXPECT_EQ(m[1].fsType, "fuse.statefs");
  EXPECT_EQ(m[2].mountPoint, "/mnt/with space");
}

TEST(PortLogic, AllocatesLowestFreeAndFailsWhenExhausted) {
  PortRanges r;
  r.user = {30000, 30001};
  r.peer = {30010, 30011};
  r.generalTcp = {30020, 30029};
  r.generalUdp = {30030, 30039};
  r.generalTcpCount = 2;
  r.generalUdpCount = 1;
  auto a = allocatePorts(r, {});
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->size(), 5u);
  EXPECT_EQ((*a)[0], (PortForward{"user", Proto::kTcp, 30000, kContainerUserPort}));
  EXPECT_EQ((*a)[1], (PortForward{"peer", Proto::kTcp, 30010, kContainerPeerPort}));
  EXPECT_EQ((*a)[2], (PortForward{"tcp", Proto::kTcp, 30020, kContainerTcpBase}));
  EXPECT_EQ((*a)[3], (PortForward{"tcp", Proto::kTcp, 30021, kContainerTcpBase + 1}));
  EXPECT_EQ((*a)[4], (PortForward{"udp", Proto::kUdp, 30030, kContainerUdpBase}));
  auto b = allocatePorts(r, {30000, 30010, 30021});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].hostPort, 30001);
  EXPECT_EQ((*b)[2].hostPort, 30020);
  EXPECT_EQ((*b)[3].hostPort, 30022);
  auto full = allocatePorts(r, {30000, 30001});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().message, "no free port left in the user range 30000-30001");
  r.peer = {30001, 30005};
  EXPECT_FALSE(allocatePorts(r, {}).ok()) << "overlapping ranges";
  r.peer = {80, 81};
  EXPECT_FALSE(allocatePorts(r, {}).ok()) << "privileged ports";
}

TEST(PortLogic, RootlessKitApiMessages) {
  EXPECT_EQ(renderPortRequest({"user", Proto::kTcp, 26000, 8080}, "0.0.0.0"),
            R"({"proto":"tcp","parentIP":"0.0.0.0","parentPort":26000,"childPort":8080})");
  EXPECT_EQ(*parsePortResponseId(R"({"id":3,"spec":{"proto":"tcp"}})"), 3);
  EXPECT_FALSE(parsePortResponseId(R"({"message":"bad"})").ok());
  auto r = parseHttpResponse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":1}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 200);
  EXPECT_EQ(r->second, "{\"id\":1}");
  auto chunked = parseHttpResponse(
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok());
  EXPECT_EQ(chunked->first, 400);
  EXPECT_EQ(chunked->second, "hello!");
  EXPECT_FALSE(parseHttpResponse("garbage").ok());
}

TEST(TenantRecordLogic, RoundTripsAndValidates) {
  TenantRecord r;
  r.spec.name = "rt";
  r.spec.args = {"/bin/httpd", "-f"};
  r.spec.env = {"A=1"};
  r.spec.limits.pids = 333;
  r.state = TenantState::kReady;
  r.step = "done";
  r.ports = {{"user", Proto::kTcp, 26000, 8080}, {"udp", Proto::kUdp, 29000, 9100}};
  auto back = parseRecord(renderRecord(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->spec.name, "rt");
  EXPECT_EQ(back->spec.args, r.spec.args);
  EXPECT_EQ(back->spec.env, r.spec.env);
  EXPECT_EQ(back->spec.limits.pids, 333u);
  EXPECT_EQ(back->state, TenantState::kReady);
  EXPECT_EQ(back->ports, r.ports);
  EXPECT_FALSE(parseRecord("{}").ok());
  auto tampered = renderRecord(r);
  tampered.replace(tampered.find("\"rt\""), 4, "\"../x\"");
  EXPECT_FALSE(parseRecord(tampered).ok()) << "names in records are validated too";
  TenantSpec s;
  s.name = "x";
  s.limits.memoryBytes = 1 << 20;
  EXPECT_FALSE(validateSpec(s).ok());
}

TEST(ContainerLogic, OciSpecIsUnprivilegedReadOnlyAndCgroupless) {
  ContainerSpec c;
  c.rootfs = "/var/lib/sashimono/images/instance/rootfs";
  c.args = {"/bin/httpd", "-f"};
  c.env = {"X=1"};
  c.stateMount = "/h/a/state";
  rapidjson::Document d;
  auto json = renderOciSpec(c);
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(d["process"]["user"]["uid"].GetUint(), 1000u);
  EXPECT_TRUE(d["process"]["noNewPrivileges"].GetBool());
  EXPECT_EQ(d["process"]["capabilities"]["bounding"].Size(), 0u);
  EXPECT_EQ(d["process"]["capabilities"]["effective"].Size(), 0u);
  EXPECT_STREQ(d["root"]["path"].GetString(), c.rootfs.c_str());
  EXPECT_TRUE(d["root"]["readonly"].GetBool());
  EXPECT_FALSE(d["linux"].HasMember("cgroupsPath"));
  EXPECT_FALSE(d["linux"].HasMember("resources"));
  for (auto& ns : d["linux"]["namespaces"].GetArray()) {
    EXPECT_STRNE(ns["type"].GetString(), "network");
    EXPECT_STRNE(ns["type"].GetString(), "user");
  }
  bool state = false;
  for (auto& m : d["mounts"].GetArray())
    if (std::string(m["destination"].GetString()) == "/state") {
      state = true;
      EXPECT_STREQ(m["source"].GetString(), "/h/a/state");
    }
  EXPECT_TRUE(state);
  EXPECT_EQ(std::string(d["process"]["env"][3].GetString()), "X=1");
}

std::set<std::string> strings(const rapidjson::Value& a) {
  std::set<std::string> out;
  for (auto& v : a.GetArray()) out.insert(v.GetString());
  return out;
}

const rapidjson::Value* mountAt(const rapidjson::Document& d, const std::string& dst) {
  for (auto& m : d["mounts"].GetArray())
    if (dst == m["destination"].GetString()) return &m;
  return nullptr;
}

TEST(ContainerLogic, InstanceProfileIsUid1000WithNoCapabilitiesAndNoDataDir) {
  ContainerSpec c;
  c.rootfs = "/img/instance/rootfs";
  c.args = {"/bin/httpd"};
  c.stateMount = "/h/a/state";
  c.infoDir = "/b/info/a";
  c.dataDir = "/h/a/runtime";  // ignored: only the runtime profile has a data dir
  rapidjson::Document d;
  d.Parse(renderOciSpec(c).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(d["process"]["user"]["uid"].GetUint(), 1000u);
  EXPECT_EQ(d["process"]["user"]["gid"].GetUint(), 1000u);
  for (const char* set : {"bounding", "effective", "inheritable", "permitted", "ambient"})
    EXPECT_EQ(d["process"]["capabilities"][set].Size(), 0u) << set;
  EXPECT_TRUE(d["process"]["noNewPrivileges"].GetBool());
  EXPECT_EQ(mountAt(d, "/data"), nullptr);
  auto* info = mountAt(d, "/run/sashimono");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(strings((*info)["options"]).count("ro"), 1u);
}

TEST(ContainerLogic, RuntimeProfileIsContainerRootWithExactlyItsCapabilitiesAndItsDataDir) {
  ContainerSpec c;
  c.rootfs = "/img/hotpocket/rootfs";
  c.args = {"/usr/bin/sashimono", "runtime", "--config", "/run/sashimono/instance.json"};
  c.stateMount = "/h/a/state";
  c.infoDir = "/b/info/a";
  c.profile = ImageProfile::kRuntime;
  c.dataDir = "/h/a/runtime";
  rapidjson::Document d;
  d.Parse(renderOciSpec(c).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(d["process"]["user"]["uid"].GetUint(), 0u);
  EXPECT_EQ(d["process"]["user"]["gid"].GetUint(), 0u);
  const std::set<std::string> want = {"CAP_SETUID", "CAP_SETGID",       "CAP_KILL",  "CAP_SYS_ADMIN",
                                      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER"};
  for (const char* set : {"bounding", "effective", "permitted"}) {
    EXPECT_EQ(strings(d["process"]["capabilities"][set]), want) << set;
    EXPECT_EQ(d["process"]["capabilities"][set].Size(), want.size()) << set;
  }
  EXPECT_EQ(d["process"]["capabilities"]["inheritable"].Size(), 0u);
  EXPECT_EQ(d["process"]["capabilities"]["ambient"].Size(), 0u);
  EXPECT_TRUE(d["process"]["noNewPrivileges"].GetBool());
  EXPECT_TRUE(d["root"]["readonly"].GetBool());
  EXPECT_FALSE(d["linux"].HasMember("cgroupsPath"));
  auto* data = mountAt(d, "/data");
  ASSERT_NE(data, nullptr);
  EXPECT_STREQ((*data)["source"].GetString(), "/h/a/runtime");
  auto opts = strings((*data)["options"]);
  EXPECT_TRUE(opts.count("rw") && opts.count("nosuid") && opts.count("nodev") && opts.count("noexec"));
  auto* info = mountAt(d, "/run/sashimono");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(strings((*info)["options"]).count("ro"), 1u);
  auto* state = mountAt(d, "/state");
  ASSERT_NE(state, nullptr);
  EXPECT_STREQ((*state)["source"].GetString(), "/h/a/state");
  std::vector<std::string> args;
  for (auto& a : d["process"]["args"].GetArray()) args.emplace_back(a.GetString());
  EXPECT_EQ(args, c.args);
}

TEST(ImageProfileLogic, ParsesNamesAndReadsTheImagesProfileFile) {
  EXPECT_EQ(*parseProfile(""), ImageProfile::kInstance);
  EXPECT_EQ(*parseProfile("instance"), ImageProfile::kInstance);
  EXPECT_EQ(*parseProfile("runtime\n"), ImageProfile::kRuntime);
  EXPECT_EQ(*parseProfile("  runtime "), ImageProfile::kRuntime);
  EXPECT_FALSE(parseProfile("root").ok());
  EXPECT_FALSE(parseProfile("runtime extra").ok());
  EXPECT_STREQ(profileName(ImageProfile::kRuntime), "runtime");
  EXPECT_STREQ(profileName(ImageProfile::kInstance), "instance");
  auto dir = std::filesystem::temp_directory_path() / ("profile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "plain");
  std::filesystem::create_directories(dir / "rt");
  std::ofstream(dir / "rt/profile") << "runtime\n";
  EXPECT_EQ(*readImageProfile(dir.string(), "plain"), ImageProfile::kInstance);
  EXPECT_EQ(*readImageProfile(dir.string(), "rt"), ImageProfile::kRuntime);
  std::filesystem::remove_all(dir);
}

TEST(TenantRecordLogic, KeepsTheProfileAndReadsOlderRecordsAsInstance) {
  TenantRecord r;
  r.spec.name = "rt";
  r.profile = ImageProfile::kRuntime;
  auto back = parseRecord(renderRecord(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->profile, ImageProfile::kRuntime);
  auto text = renderRecord(r);
  const std::string field = "\"profile\": \"runtime\",";
  auto at = text.find(field);
  ASSERT_NE(at, std::string::npos) << text;
  auto older = text;
  older.erase(at, field.size());
  auto old = parseRecord(older);
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->profile, ImageProfile::kInstance);
  auto bad = text;
  bad.replace(at, field.size(), "\"profile\": \"root\",");
  EXPECT_FALSE(parseRecord(bad).ok());
}

TEST(DaemonLogic, ConfigAndArgvStayInTheTenantHome) {
  auto l = tenantLayout("/b", "sashi-", "t");
  EXPECT_EQ(l.user, "sashi-t");
  EXPECT_EQ(l.contractUser, "sashi-t_c");
  EXPECT_EQ(l.home, "/b/homes/t");
  EXPECT_EQ(l.record, "/b/records/t.json");
  EXPECT_EQ(l.image, "/b/disks/t.img");
  auto cfg = renderContainerdConfig(l);
  EXPECT_NE(cfg.find("root = \"/b/homes/t/containerd\""), std::string::npos);
  EXPECT_NE(cfg.find("address = \"/b/homes/t/run/containerd.sock\""), std::string::npos);
  EXPECT_NE(cfg.find("io.containerd.grpc.v1.cri"), std::string::npos);
  auto argv = rootlesskitArgv(l);
  EXPECT_EQ(argv[0], "rootlesskit");
  for (auto flag : {"--net=slirp4netns", "--disable-host-loopback", "--port-driver=builtin",
                    "--state-dir=/b/homes/t/run/rk"})
    EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
  auto env = tenantEnv(l);
  EXPECT_NE(std::find(env.begin(), env.end(), "XDG_RUNTIME_DIR=/b/homes/t/run"), env.end());
}

}  // namespace
}  // namespace sashimono::host
