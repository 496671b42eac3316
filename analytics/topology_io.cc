// Topology readers: every rule (one check meter per transformer, a meter on one transformer only, known roles)
// is checked before anything is returned.
#include "wattguard/analytics/topology_io.h"

#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/input_error.h"
#include "wattguard/analytics/readings_csv.h"

namespace wattguard::analytics {
namespace {

constexpr size_t kMaxIdLength = 128;

bool has_control(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Builds the topology entry by entry, enforcing the rules shared by both formats.
class TopologyBuilder {
 public:
  explicit TopologyBuilder(std::string source) { topology_.source = std::move(source); }

  // line: CSV line (0 for JSON); where: JSON path of the entry (empty for CSV).
  Expected<void> add(const std::string& transformer, const std::string& meter, const std::string& role, int64_t line,
                     const std::string& where_transformer, const std::string& where) {
    auto error = [&](std::string field, std::string value, std::string message) {
      return input_error(topology_.source, line, where.empty() ? std::move(field) : where, std::move(value),
                         std::move(message));
    };
    if (transformer.empty()) return error("transformer", transformer, "empty transformer id");
    if (meter.empty()) return error("meter", meter, "empty meter id");
    if (transformer.size() > kMaxIdLength || has_control(transformer)) {
      return error("transformer", transformer, "transformer id too long or has control characters");
    }
    if (meter.size() > kMaxIdLength || has_control(meter)) {
      return error("meter", meter, "meter id too long or has control characters");
    }
    const std::string r = lower(role);
    if (r != "check" && r != "consumer") return error("role", role, "role must be check or consumer");
    auto [it, inserted] = transformer_index_.emplace(transformer, topology_.transformers.size());
    if (inserted) {
      TransformerNode node;
      node.id = transformer;
      node.line = line;
      node.where = where_transformer;
      topology_.transformers.push_back(std::move(node));
    }
    TransformerNode& node = topology_.transformers[it->second];
    const auto seen = meter_seen_.find(meter);
    if (seen != meter_seen_.end()) {
      const Seen& s = seen->second;
      const std::string at = s.line > 0 ? "line " + std::to_string(s.line) : s.where;
      if (s.transformer != transformer) {
        return error("meter", meter,
                     "meter is already on transformer " + s.transformer + " (" + at + "); a meter belongs to one");
      }
      return error("meter", meter, "meter is listed twice on transformer " + transformer + " (" + at + ")");
    }
    meter_seen_.emplace(meter, Seen{transformer, line, where});
    if (r == "check") {
      if (!node.check_meter.empty()) {
        return error("role", role,
                     "transformer " + transformer + " already has check meter " + node.check_meter +
                         (node.check_line > 0 ? " (line " + std::to_string(node.check_line) + ")" : ""));
      }
      node.check_meter = meter;
      node.check_line = line;
    } else {
      node.consumers.push_back(meter);
      node.consumer_lines.push_back(line);
    }
    return {};
  }

  Expected<Topology> finish() {
    if (topology_.transformers.empty()) {
      return input_error(topology_.source, 0, "", "", "no transformers: the topology is empty");
    }
    for (const auto& t : topology_.transformers) {
      if (t.check_meter.empty()) {
        return input_error(topology_.source, t.line, t.where.empty() ? "transformer" : t.where, t.id,
                           "transformer has no check meter (a row with role check)");
      }
    }
    return std::move(topology_);
  }

 private:
  struct Seen {
    std::string transformer;
    int64_t line;
    std::string where;
  };
  Topology topology_;
  std::unordered_map<std::string, size_t> transformer_index_;
  std::unordered_map<std::string, Seen> meter_seen_;
};

}  // namespace

Expected<Topology> parse_topology_csv(std::string_view text, const std::string& source) {
  LineCursor cursor(text);
  bool have_header = false;
  TopologyBuilder builder(source);
  while (const auto record = cursor.next_record()) {
    const std::string_view t = record->text;
    const int64_t number = record->number;
    auto split = split_csv_line(t);
    if (!split.ok()) return input_error(source, number, "", std::string(t), split.error().message);
    std::vector<std::string> fields = std::move(split).value();
    if (!have_header) {
      for (auto& f : fields) f = lower(f);
      if (fields.size() != 3 || fields[0] != "transformer" || fields[1] != "meter" || fields[2] != "role") {
        return input_error(source, number, "header", std::string(t), "header must be transformer,meter,role");
      }
      have_header = true;
      continue;
    }
    if (fields.size() != 3) {
      return input_error(source, number, "", std::string(t),
                         "expected 3 fields, found " + std::to_string(fields.size()));
    }
    if (auto added = builder.add(fields[0], fields[1], fields[2], number, "", ""); !added) return added.error();
  }
  if (!have_header) return input_error(source, 0, "header", "", "no header line: the file is empty");
  return builder.finish();
}

Expected<Topology> parse_topology_json(std::string_view text, const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return input_error(source, 0, "", "", "not valid JSON");
  if (!doc.is_object() || !doc.contains("transformers") || !doc["transformers"].is_array()) {
    return input_error(source, 0, "transformers", "", "expected an object with a \"transformers\" array");
  }
  TopologyBuilder builder(source);
  const auto& list = doc["transformers"];
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "transformers[" + std::to_string(i) + "]";
    const auto& t = list[i];
    if (!t.is_object()) return input_error(source, 0, where, t.dump(), "each transformer must be an object");
    if (!t.contains("id") || !t["id"].is_string()) {
      return input_error(source, 0, where + ".id", t.contains("id") ? t["id"].dump() : "", "id must be a string");
    }
    const std::string id = t["id"].get<std::string>();
    if (!t.contains("check") || !t["check"].is_string()) {
      return input_error(source, 0, where + ".check", t.contains("check") ? t["check"].dump() : "",
                         "transformer " + id + " needs a check meter id (string)");
    }
    if (auto added = builder.add(id, t["check"].get<std::string>(), "check", 0, where, where + ".check"); !added) {
      return added.error();
    }
    if (t.contains("consumers")) {
      const auto& consumers = t["consumers"];
      if (!consumers.is_array()) {
        return input_error(source, 0, where + ".consumers", consumers.dump(),
                           "consumers must be an array of meter ids");
      }
      for (size_t j = 0; j < consumers.size(); ++j) {
        const std::string cw = where + ".consumers[" + std::to_string(j) + "]";
        if (!consumers[j].is_string()) {
          return input_error(source, 0, cw, consumers[j].dump(), "meter id must be a string");
        }
        if (auto added = builder.add(id, consumers[j].get<std::string>(), "consumer", 0, where, cw); !added) {
          return added.error();
        }
      }
    }
  }
  return builder.finish();
}

Expected<Topology> parse_topology(std::string_view text, const std::string& source) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '{') return parse_topology_json(text, source);
    break;
  }
  return parse_topology_csv(text, source);
}

Expected<Topology> read_topology_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.error();
  return parse_topology(text.value(), path);
}

}  // namespace wattguard::analytics
