#include "sashimono/core/Metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace sashimono::core {

namespace {

bool validName(std::string_view n, bool allowColon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allowColon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

const char* typeName(MetricType t) {
  switch (t) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

void appendLabels(std::string& out, const MetricLabels& labels, const char* extraKey = nullptr,
                  const std::string& extraValue = {}) {
  if (labels.empty() && !extraKey) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escapeLabelValue(v);
    out += '"';
  }
  if (extraKey) {
    if (!first) out += ',';
    out += extraKey;
    out += "=\"";
    out += extraValue;
    out += '"';
  }
  out += '}';
}

}  // namespace

std::vector<double> durationBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string formatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    return buf;
  }
  // The shortest text that reads back as the same double.
  char buf[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void MetricsRegistry::declare(MetricFamily f) {
  if (!validName(f.name, true)) throw std::logic_error("metric name not accepted: " + f.name);
  if (f.type == MetricType::histogram) {
    if (f.buckets.empty() || !std::is_sorted(f.buckets.begin(), f.buckets.end()) ||
        std::adjacent_find(f.buckets.begin(), f.buckets.end()) != f.buckets.end())
      throw std::logic_error("histogram buckets must ascend: " + f.name);
  }
  std::lock_guard lk(mu_);
  if (find(f.name)) throw std::logic_error("metric declared twice: " + f.name);
  Family fam{std::move(f), {}};
  if (!fam.spec.labelled) {
    Series s;
    s.counts.assign(fam.spec.buckets.size(), 0);
    fam.series.emplace(MetricLabels{}, s);
  }
  families_.push_back(std::move(fam));
}

const MetricsRegistry::Family* MetricsRegistry::find(std::string_view name) const {
  for (const auto& f : families_)
    if (f.spec.name == name) return &f;
  return nullptr;
}

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, MetricType expected,
                                                 const MetricLabels& labels) {
  auto* f = const_cast<Family*>(find(name));
  if (!f) throw std::logic_error("metric not declared: " + std::string(name));
  if (f->spec.type != expected && !(expected == MetricType::gauge && f->spec.type == MetricType::counter))
    throw std::logic_error("metric used as another type: " + std::string(name));
  if (labels.empty() == f->spec.labelled)
    throw std::logic_error("metric labels do not match: " + std::string(name));
  for (const auto& [k, v] : labels)
    if (!validName(k, false) || k == "le" || k.rfind("__", 0) == 0)
      throw std::logic_error("metric label name not accepted: " + k);
  return *f;
}

void MetricsRegistry::add(std::string_view name, const MetricLabels& labels, double v) {
  std::lock_guard lk(mu_);
  if (v < 0) throw std::logic_error("a counter only grows: " + std::string(name));
  family(name, MetricType::counter, labels).series[labels].value += v;
}

void MetricsRegistry::set(std::string_view name, const MetricLabels& labels, double v) {
  std::lock_guard lk(mu_);
  family(name, MetricType::gauge, labels).series[labels].value = v;
}

void MetricsRegistry::observe(std::string_view name, const MetricLabels& labels, double v) {
  std::lock_guard lk(mu_);
  Family& f = family(name, MetricType::histogram, labels);
  Series& s = f.series[labels];
  if (s.counts.empty()) s.counts.assign(f.spec.buckets.size(), 0);
  s.value += v;
  ++s.count;
  for (std::size_t i = 0; i < f.spec.buckets.size(); ++i) {
    if (v <= f.spec.buckets[i]) {
      ++s.counts[i];
      break;
    }
  }
}

void MetricsRegistry::replace(std::string_view name, std::vector<std::pair<MetricLabels, double>> series) {
  std::lock_guard lk(mu_);
  auto* f = const_cast<Family*>(find(name));
  if (!f) throw std::logic_error("metric not declared: " + std::string(name));
  if (f->spec.type == MetricType::histogram || !f->spec.labelled)
    throw std::logic_error("only a labelled counter or gauge is replaced whole: " + std::string(name));
  std::map<MetricLabels, Series> next;
  for (auto& [labels, v] : series) {
    family(name, f->spec.type == MetricType::counter ? MetricType::gauge : f->spec.type, labels);
    next[std::move(labels)].value = v;
  }
  f->series = std::move(next);
}

double MetricsRegistry::value(std::string_view name, const MetricLabels& labels) const {
  std::lock_guard lk(mu_);
  const Family* f = find(name);
  if (!f) return 0;
  auto it = f->series.find(labels);
  if (it == f->series.end()) return 0;
  return f->spec.type == MetricType::histogram ? static_cast<double>(it->second.count) : it->second.value;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lk(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.spec.name + " " + escapeHelp(f.spec.help) + "\n";
    out += "# TYPE " + f.spec.name + " " + typeName(f.spec.type) + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.spec.type != MetricType::histogram) {
        out += f.spec.name;
        appendLabels(out, labels);
        out += ' ' + formatMetricValue(s.value) + '\n';
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.spec.buckets.size(); ++i) {
        cumulative += i < s.counts.size() ? s.counts[i] : 0;
        out += f.spec.name + "_bucket";
        appendLabels(out, labels, "le", formatMetricValue(f.spec.buckets[i]));
        out += ' ' + std::to_string(cumulative) + '\n';
      }
      out += f.spec.name + "_bucket";
      appendLabels(out, labels, "le", "+Inf");
      out += ' ' + std::to_string(s.count) + '\n';
      out += f.spec.name + "_sum";
      appendLabels(out, labels);
      out += ' ' + formatMetricValue(s.value) + '\n';
      out += f.spec.name + "_count";
      appendLabels(out, labels);
      out += ' ' + std::to_string(s.count) + '\n';
    }
  }
  return out;
}

}  // namespace sashimono::core
