#include "sashimono/core/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace sashimono::core {
namespace {

TEST(MetricsTest, CountersAndGaugesRenderWithHelpTypeAndEscapedLabels) {
  MetricsRegistry m;
  m.declare({"x_requests_total", MetricType::counter, "Requests\nby verdict \\ type", true});
  m.declare({"x_up", MetricType::gauge, "Whether it runs"});
  m.add("x_requests_total", {{"type", "acquire"}, {"verdict", "refused"}});
  m.add("x_requests_total", {{"type", "acquire"}, {"verdict", "refused"}}, 2);
  m.add("x_requests_total", {{"type", "a\"b\\c\nd"}, {"verdict", "ok"}});
  m.set("x_up", 1);
  EXPECT_EQ(m.render(),
            "# HELP x_requests_total Requests\\nby verdict \\\\ type\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{type=\"a\\\"b\\\\c\\nd\",verdict=\"ok\"} 1\n"
            "x_requests_total{type=\"acquire\",verdict=\"refused\"} 3\n"
            "# HELP x_up Whether it runs\n"
            "# TYPE x_up gauge\n"
            "x_up 1\n");
  EXPECT_EQ(m.value("x_requests_total", {{"type", "acquire"}, {"verdict", "refused"}}), 3);
  EXPECT_EQ(m.value("x_requests_total", {{"type", "extend"}, {"verdict", "refused"}}), 0);
}

TEST(MetricsTest, UnlabelledFamiliesExistFromTheStart) {
  MetricsRegistry m;
  m.declare({"x_retries_total", MetricType::counter, "Retries"});
  m.declare({"x_tenant_bytes", MetricType::gauge, "Bytes", true});
  EXPECT_EQ(m.render(),
            "# HELP x_retries_total Retries\n# TYPE x_retries_total counter\nx_retries_total 0\n"
            "# HELP x_tenant_bytes Bytes\n# TYPE x_tenant_bytes gauge\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry m;
  m.declare({"x_seconds", MetricType::histogram, "Durations", false, {0.1, 1}});
  m.observe("x_seconds", 0.0625);
  m.observe("x_seconds", 0.1);  // on the bound: in it
  m.observe("x_seconds", 0.5);
  m.observe("x_seconds", 7);
  EXPECT_EQ(m.render(),
            "# HELP x_seconds Durations\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.1\"} 2\n"
            "x_seconds_bucket{le=\"1\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\n"
            "x_seconds_sum 7.6625\n"
            "x_seconds_count 4\n");
  EXPECT_EQ(m.value("x_seconds"), 4);
}

TEST(MetricsTest, ReplaceDropsSeriesThatLeft) {
  MetricsRegistry m;
  m.declare({"x_mem_bytes", MetricType::gauge, "Memory", true});
  m.replace("x_mem_bytes", {{{{"lease", "a"}}, 10}, {{{"lease", "b"}}, 20}});
  m.replace("x_mem_bytes", {{{{"lease", "b"}}, 30}});
  EXPECT_EQ(m.render(), "# HELP x_mem_bytes Memory\n# TYPE x_mem_bytes gauge\nx_mem_bytes{lease=\"b\"} 30\n");
}

TEST(MetricsTest, ValuesAreFormattedAsTheFormatWants) {
  EXPECT_EQ(formatMetricValue(0), "0");
  EXPECT_EQ(formatMetricValue(-3), "-3");
  EXPECT_EQ(formatMetricValue(1e20), "1e+20");
  EXPECT_EQ(formatMetricValue(0.25), "0.25");
  EXPECT_EQ(formatMetricValue(0.1), "0.1");
  EXPECT_EQ(formatMetricValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(formatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTest, MisuseIsABug) {
  MetricsRegistry m;
  m.declare({"x_total", MetricType::counter, "A counter"});
  m.declare({"x_hist", MetricType::histogram, "A histogram", true, {1, 2}});
  EXPECT_THROW(m.declare({"x_total", MetricType::counter, "twice"}), std::logic_error);
  EXPECT_THROW(m.declare({"0bad", MetricType::gauge, "name"}), std::logic_error);
  EXPECT_THROW(m.declare({"x_b", MetricType::histogram, "unsorted", false, {2, 1}}), std::logic_error);
  EXPECT_THROW(m.add("nope"), std::logic_error);
  EXPECT_THROW(m.add("x_total", {}, -1), std::logic_error);
  EXPECT_THROW(m.add("x_total", {{"a", "b"}}), std::logic_error);         // unlabelled family
  EXPECT_THROW(m.observe("x_hist", {{"le", "1"}}, 1), std::logic_error);  // reserved label
  EXPECT_THROW(m.observe("x_hist", {{"a-b", "1"}}, 1), std::logic_error);
  EXPECT_THROW(m.set("x_hist", {{"a", "1"}}, 1), std::logic_error);  // wrong type
}

}  // namespace
}  // namespace sashimono::core
