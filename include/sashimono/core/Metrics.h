#pragma once
// Metrics in the Prometheus text exposition format (version 0.0.4): counters, gauges and
// histograms, each a family of series told apart by their labels.
//
//   MetricsRegistry m;
//   m.declare({"sashimono_requests_total", MetricType::counter, "Requests by type and verdict"});
//   m.add("sashimono_requests_total", {{"type", "acquire"}, {"verdict", "accepted"}});
//   m.render();   // what GET /metrics answers
//
// A family is declared once with its type and help; using an undeclared name, or a name or
// label name that Prometheus does not accept, is a bug (std::logic_error). A family without
// series is rendered with its value 0 when it takes no labels (an unlabelled counter exists
// from the start), else by its HELP and TYPE lines only. Label values are escaped as the format
// requires (backslash, double quote, newline). Families render in the order they were declared,
// series in label order.
//
// Thread-safety: every member may be called from any thread (one mutex; updates are rare next to
// the work they count).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sashimono::core {

enum class MetricType { counter, gauge, histogram };

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct MetricFamily {
  MetricFamily(std::string n, MetricType t, std::string h, bool l = false, std::vector<double> b = {})
      : name(std::move(n)), type(t), help(std::move(h)), labelled(l), buckets(std::move(b)) {}
  std::string name;
  MetricType type = MetricType::counter;
  std::string help;
  bool labelled = false;        // false: one series without labels, present from the start
  std::vector<double> buckets;  // histograms: upper bounds, ascending (+Inf is implicit)
};

// Bucket bounds for durations in seconds, from 10 ms to 5 minutes.
std::vector<double> durationBuckets();

class MetricsRegistry {
 public:
  void declare(MetricFamily family);
  // Counter: adds v (≥ 0) to the series.
  void add(std::string_view name, const MetricLabels& labels = {}, double v = 1);
  // Gauge, or a counter kept elsewhere (its current total): sets the series.
  void set(std::string_view name, const MetricLabels& labels, double v);
  void set(std::string_view name, double v) { set(name, {}, v); }
  // Histogram: one observation.
  void observe(std::string_view name, const MetricLabels& labels, double v);
  void observe(std::string_view name, double v) { observe(name, {}, v); }
  // Replaces every series of the family (a gauge per tenant: tenants that left disappear).
  void replace(std::string_view name, std::vector<std::pair<MetricLabels, double>> series);
  // A series' value (counters, gauges) or count (histograms); 0 when absent. For tests.
  [[nodiscard]] double value(std::string_view name, const MetricLabels& labels = {}) const;
  [[nodiscard]] std::string render() const;

 private:
  struct Series {
    double value = 0;                   // counter, gauge; histogram: sum
    std::uint64_t count = 0;            // histogram
    std::vector<std::uint64_t> counts;  // histogram: per bucket (not cumulative)
  };
  struct Family {
    MetricFamily spec;
    std::map<MetricLabels, Series> series;
  };
  Family& family(std::string_view name, MetricType expected, const MetricLabels& labels);
  const Family* find(std::string_view name) const;

  mutable std::mutex mu_;
  std::vector<Family> families_;
};

// The text a label value or HELP line carries: `\` → `\\`, newline → `\n`, and in label values
// `"` → `\"`.
std::string escapeLabelValue(std::string_view v);
std::string escapeHelp(std::string_view v);
// A sample value as the format writes it: integers without a fraction, +Inf, -Inf, NaN.
std::string formatMetricValue(double v);

}  // namespace sashimono::core
