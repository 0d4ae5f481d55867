// TenantRecord: render/parse round trip, validation, the kept image profile.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "sashimono/host/ImageProfile.h"
#include "sashimono/host/TenantRecord.h"

namespace sashimono::host {
namespace {

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

TEST(TenantRecordLogic, StatesHaveTheirOnDiskNamesBothWays) {
  const std::pair<TenantState, const char*> names[] = {{TenantState::kCreating, "creating"},
                                                       {TenantState::kReady, "ready"},
                                                       {TenantState::kDestroying, "destroying"},
                                                       {TenantState::kOrphaned, "orphaned"}};
  for (auto [state, name] : names) {
    EXPECT_STREQ(stateName(state), name);
    auto back = parseTenantState(name);
    ASSERT_TRUE(back.ok()) << name;
    EXPECT_EQ(*back, state);
  }
  for (const char* bad : {"", "Ready", "ready ", "paused"}) {
    auto r = parseTenantState(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message, std::string("unknown tenant state '") + bad + "'");
  }
}

TEST(TenantRecordLogic, RecordsKeepTheStateTextAndRefuseUnknownOrOrphaned) {
  TenantRecord r;
  r.spec.name = "st";
  for (auto [state, text] : {std::pair{TenantState::kCreating, "\"state\": \"creating\","},
                             std::pair{TenantState::kReady, "\"state\": \"ready\","},
                             std::pair{TenantState::kDestroying, "\"state\": \"destroying\","}}) {
    r.state = state;
    auto rendered = renderRecord(r);
    EXPECT_NE(rendered.find(text), std::string::npos) << rendered;
    auto back = parseRecord(rendered);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->state, state);
  }
  r.state = TenantState::kReady;
  const auto text = renderRecord(r);
  const std::string field = "\"state\": \"ready\"";
  for (const char* bad : {"paused", "orphaned"}) {
    auto tampered = text;
    tampered.replace(tampered.find(field), field.size(), std::string("\"state\": \"") + bad + "\"");
    auto p = parseRecord(tampered);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().message, std::string("tenant record: unknown state '") + bad + "'");
  }
}

}  // namespace
}  // namespace sashimono::host
