// Topology import: analytics' readers do the row rules; this adds names/areas, URL-safe ids and known meters.
#include "wattguard/grid/topology_import.h"

#include <nlohmann/json.hpp>
#include <set>

#include "wattguard/analytics/input_error.h"
#include "wattguard/analytics/topology_io.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::grid {
namespace {

using analytics::input_error;
using nlohmann::json;

constexpr size_t kMaxTextLength = 128;

bool good_text(const std::string& s) {
  if (s.size() > kMaxTextLength) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

// The analytics field for a JSON entry is its path; rename "check" back to what the file used.
std::string json_field(std::string field, bool used_check_meter) {
  const std::string suffix = ".check";
  if (used_check_meter && field.size() >= suffix.size() &&
      field.compare(field.size() - suffix.size(), suffix.size(), suffix) == 0) {
    field += "_meter";
  }
  return field;
}

}  // namespace

std::string describe_error(const Error& e) {
  std::string out;
  if (e.line > 0) out += "line " + std::to_string(e.line);
  if (!e.field.empty()) out += (out.empty() ? "" : ", ") + std::string("field ") + e.field;
  if (!e.value.empty()) out += (out.empty() ? "" : ", ") + std::string("value \"") + e.value + "\"";
  if (!out.empty()) out += ": ";
  return out + e.message;
}

Expected<void> check_transformer(const Transformer& t, const MeterKnown& meter_known) {
  auto fail = [](std::string field, std::string value, std::string message) {
    return input_error("transformer", 0, std::move(field), std::move(value), std::move(message));
  };
  if (!protocol::is_valid_meter_id(t.id)) {
    return fail("id", t.id, "transformer id must be 1 to 64 characters of A-Z a-z 0-9 _ -");
  }
  if (!good_text(t.name)) return fail("name", t.name, "name: at most 128 characters, no control characters");
  if (!good_text(t.area)) return fail("area", t.area, "area: at most 128 characters, no control characters");
  if (t.check_meter.empty()) return fail("check_meter", "", "transformer " + t.id + " needs a check meter");
  std::set<std::string> seen;
  for (size_t i = 0; i <= t.consumers.size(); ++i) {
    const std::string& m = i == 0 ? t.check_meter : t.consumers[i - 1];
    const std::string field = i == 0 ? "check_meter" : "consumers[" + std::to_string(i - 1) + "]";
    if (!meter_known(m)) return fail(field, m, "unknown meter (not provisioned in the store)");
    if (!seen.insert(m).second) return fail(field, m, "meter is listed twice on transformer " + t.id);
  }
  return {};
}

Expected<std::vector<Transformer>> parse_grid_topology(std::string_view text, const std::string& source,
                                                       const MeterKnown& meter_known) {
  bool is_json = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    is_json = c == '{';
    break;
  }
  // JSON: names and areas are ours; the membership rules are analytics', on a translated document.
  std::vector<std::pair<std::string, std::string>> names_areas;  // by transformer index in the file
  bool used_check_meter = false;
  std::string translated;
  if (is_json) {
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return input_error(source, 0, "", "", "not valid JSON");
    if (!doc.is_object() || !doc.contains("transformers") || !doc["transformers"].is_array()) {
      return input_error(source, 0, "transformers", "", "expected an object with a \"transformers\" array");
    }
    json out_list = json::array();
    const json& list = doc["transformers"];
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "transformers[" + std::to_string(i) + "]";
      const json& t = list[i];
      if (!t.is_object()) return input_error(source, 0, where, t.dump(), "each transformer must be an object");
      json copy = t;
      if (copy.contains("check_meter")) {
        used_check_meter = true;
        copy["check"] = copy["check_meter"];
        copy.erase("check_meter");
      }
      std::string name, area;
      for (const char* key : {"name", "area"}) {
        if (!t.contains(key) || t[key].is_null()) continue;
        if (!t[key].is_string() || !good_text(t[key].get<std::string>())) {
          return input_error(source, 0, where + "." + key, t[key].dump(),
                             std::string(key) +
                                 " must be a string of at most 128 characters without control characters");
        }
        (std::string(key) == "name" ? name : area) = t[key].get<std::string>();
      }
      names_areas.emplace_back(name, area);
      out_list.push_back(std::move(copy));
    }
    translated = json{{"transformers", out_list}}.dump();
  }
  auto parsed =
      is_json ? analytics::parse_topology_json(translated, source) : analytics::parse_topology_csv(text, source);
  if (!parsed.ok()) {
    Error e = parsed.error();
    if (is_json) e.field = json_field(e.field, used_check_meter);
    return e;
  }
  std::vector<Transformer> out;
  for (size_t i = 0; i < parsed.value().transformers.size(); ++i) {
    const analytics::TransformerNode& node = parsed.value().transformers[i];
    Transformer t;
    t.id = node.id;
    t.check_meter = node.check_meter;
    t.consumers = node.consumers;
    if (is_json && i < names_areas.size()) std::tie(t.name, t.area) = names_areas[i];
    // Server rules, reported at the row that introduced the offending id.
    if (!protocol::is_valid_meter_id(t.id)) {
      return input_error(source, node.line, is_json ? node.where + ".id" : "transformer", t.id,
                         "transformer id must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
    if (!meter_known(t.check_meter)) {
      return input_error(source, node.check_line,
                         is_json ? json_field(node.where + ".check", used_check_meter) : "meter", t.check_meter,
                         "unknown meter (not provisioned in the store)");
    }
    for (size_t j = 0; j < t.consumers.size(); ++j) {
      if (meter_known(t.consumers[j])) continue;
      return input_error(source, j < node.consumer_lines.size() ? node.consumer_lines[j] : 0,
                         is_json ? node.where + ".consumers[" + std::to_string(j) + "]" : "meter", t.consumers[j],
                         "unknown meter (not provisioned in the store)");
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace wattguard::grid
