// The Prometheus text format: names, escaping, values and the grouping of samples by family.
#include "wattguard/api/metrics_writer.h"

#include <charconv>
#include <cmath>

namespace wattguard::api {
namespace {

bool is_name_start(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_'; }
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

const char* type_name(MetricType type) { return type == MetricType::kCounter ? "counter" : "gauge"; }

}  // namespace

bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_name_start(name[0]) || name[0] == ':')) return false;
  for (char ch : name) {
    if (!(is_name_start(ch) || is_digit(ch) || ch == ':')) return false;
  }
  return true;
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0]) || name.starts_with("__")) return false;
  for (char ch : name) {
    if (!(is_name_start(ch) || is_digit(ch))) return false;
  }
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '"') {
      out += "\\\"";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char ch : help) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch == '\n') {
      out += "\\n";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

MetricsWriter::Family* MetricsWriter::find(std::string_view name) {
  for (auto& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool MetricsWriter::family(std::string_view name, MetricType type, std::string_view help) {
  if (!is_valid_metric_name(name)) return false;
  if (const Family* existing = find(name)) return existing->type == type;
  families_.push_back(Family{std::string(name), type, std::string(help), {}});
  return true;
}

bool MetricsWriter::sample(std::string_view name, double value, const MetricLabels& labels) {
  Family* f = find(name);
  if (f == nullptr) return false;
  std::string line(name);
  if (!labels.empty()) {
    line += '{';
    bool first = true;
    for (const auto& [label, text] : labels) {
      if (!is_valid_label_name(label)) return false;
      if (!first) line += ',';
      first = false;
      line += label;
      line += "=\"";
      line += escape_label_value(text);
      line += '"';
    }
    line += '}';
  }
  line += ' ';
  line += format_metric_value(value);
  f->samples.push_back(std::move(line));
  return true;
}

bool MetricsWriter::counter(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  return family(name, MetricType::kCounter, help) && sample(name, value, labels);
}

bool MetricsWriter::gauge(std::string_view name, std::string_view help, double value, const MetricLabels& labels) {
  return family(name, MetricType::kGauge, help) && sample(name, value, labels);
}

std::string MetricsWriter::text() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.samples.empty()) continue;
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
    for (const auto& s : f.samples) {
      out += s;
      out += '\n';
    }
  }
  return out;
}

}  // namespace wattguard::api
