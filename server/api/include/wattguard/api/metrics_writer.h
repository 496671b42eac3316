// Builds a Prometheus text exposition (format 0.0.4) from families of counters and gauges, so any part can add
// its own series to GET /metrics through ApiDeps::metrics_sources without the API knowing them.
// Not thread-safe: one writer per answer, filled and rendered on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wattguard::api {

enum class MetricType { kCounter, kGauge };

// Label name -> value; values may hold any text (escaped when rendered).
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsWriter {
 public:
  // Declares a family (its HELP and TYPE lines). Declaring it again with the same type adds to it (two sources
  // may both write wattguard_connections), so the samples of a family always come out together, as the format
  // requires. Counters should end in _total, and names carry their unit (_seconds, _bytes, _watts).
  // Returns false, adding nothing, when the name is not a valid metric name or the family exists with another type.
  bool family(std::string_view name, MetricType type, std::string_view help);

  // One sample of family `name` (declared first). Returns false, adding nothing, when the family is unknown or a
  // label name is invalid (names: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
  bool sample(std::string_view name, double value, const MetricLabels& labels = {});

  // family() and one sample, for the common single-series case.
  bool counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});
  bool gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels = {});

  // The exposition text: every family in the order first declared, each HELP, TYPE, then its samples; a family
  // without samples is left out.
  std::string text() const;

  // Content-Type of text().
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Family {
    std::string name;
    MetricType type = MetricType::kGauge;
    std::string help;
    std::vector<std::string> samples;  // rendered lines without the newline
  };
  Family* find(std::string_view name);

  std::vector<Family> families_;
};

// A part's contribution to /metrics; called on an HTTP thread for every scrape, so it must be quick and thread-safe.
using MetricsSource = std::function<void(MetricsWriter&)>;

// The text format's escaping: label values escape backslash, double quote and line feed; HELP text escapes
// backslash and line feed.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// A sample value as the format writes it: shortest round-trip decimal, NaN, +Inf, -Inf.
std::string format_metric_value(double value);
bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

}  // namespace wattguard::api
