// ContainerRuntime logic: the OCI spec for each image profile.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/host/ContainerRuntime.h"
#include "sashimono/host/ImageProfile.h"

namespace sashimono::host {
namespace {

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
  c.dataDir = "/h/a/runtime";     // ignored: only the runtime profile has a data dir ...
  c.controlDir = "/h/a/control";  // ... and the statefs control socket
  c.viewsDir = "/h/a/views";      // ... and the views
  rapidjson::Document d;
  d.Parse(renderOciSpec(c).c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(d["process"]["user"]["uid"].GetUint(), 1000u);
  EXPECT_EQ(d["process"]["user"]["gid"].GetUint(), 1000u);
  for (const char* set : {"bounding", "effective", "inheritable", "permitted", "ambient"})
    EXPECT_EQ(d["process"]["capabilities"][set].Size(), 0u) << set;
  EXPECT_TRUE(d["process"]["noNewPrivileges"].GetBool());
  EXPECT_EQ(mountAt(d, "/data"), nullptr);
  EXPECT_EQ(mountAt(d, "/run/statefs"), nullptr);
  EXPECT_EQ(mountAt(d, "/run/views"), nullptr);
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
  c.controlDir = "/h/a/control";
  c.viewsDir = "/h/a/views";
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
  auto* control = mountAt(d, "/run/statefs");  // the statefs control socket's directory, read-only
  ASSERT_NE(control, nullptr);
  EXPECT_STREQ((*control)["source"].GetString(), "/h/a/control");
  EXPECT_EQ(strings((*control)["options"]).count("ro"), 1u);
  auto* views = mountAt(d, "/run/views");  // the views of the committed state, read-only, executable
  ASSERT_NE(views, nullptr);
  EXPECT_STREQ((*views)["source"].GetString(), "/h/a/views");
  EXPECT_EQ(strings((*views)["options"]).count("ro"), 1u);
  EXPECT_EQ(strings((*views)["options"]).count("noexec"), 0u);
  std::vector<std::string> args;
  for (auto& a : d["process"]["args"].GetArray()) args.emplace_back(a.GetString());
  EXPECT_EQ(args, c.args);
}

}  // namespace
}  // namespace sashimono::host
