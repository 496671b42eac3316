// Fidelity choice, broker address and theft-kind parsing, status lines.
#include "wattguard/fleet/fleet_options.h"

#include <cstdio>
#include <sstream>

namespace wattguard::fleet {

std::optional<FidelityChoice> choose_fidelity(const std::string& requested, std::size_t meters, double speed,
                                              uint32_t sample_rate_hz) {
  const double load = static_cast<double>(meters) * std::max(speed, 0.01);
  FidelityChoice c;
  char buf[200];
  if (requested == "fast") {
    c.fidelity = Fidelity::kFast;
    c.reason = "fast fidelity (readings from the households' exact load plus measurement noise; no ADC samples)";
    return c;
  }
  if (requested != "auto" && requested != "samples") return std::nullopt;
  if (sample_rate_hz != 0) {
    c.sample_rate_hz = sample_rate_hz;
  } else if (load * 4000 <= kSampleBudgetPerS) {
    c.sample_rate_hz = 4000;
  } else {
    c.sample_rate_hz = 1000;
  }
  const double cost = load * c.sample_rate_hz;
  if (requested == "auto" && sample_rate_hz == 0 && cost > kSampleBudgetPerS) {
    c.fidelity = Fidelity::kFast;
    std::snprintf(buf, sizeof(buf),
                  "fast fidelity: %zu meters x speed %.3g at even 1 kHz would need %.3g sample sets/s (budget %.3g)",
                  meters, speed, cost, kSampleBudgetPerS);
    c.reason = buf;
    return c;
  }
  c.fidelity = Fidelity::kSamples;
  std::snprintf(buf, sizeof(buf),
                "samples fidelity at %u Hz (simulator ADC samples -> metrology core): %.3g sample sets/s%s",
                c.sample_rate_hz, cost, cost > kSampleBudgetPerS ? ", over the budget: expect the fleet to lag" : "");
  c.reason = buf;
  return c;
}

std::optional<BrokerAddress> parse_broker_address(const std::string& text) {
  BrokerAddress a;
  const auto colon = text.rfind(':');
  std::string port_text;
  if (colon == std::string::npos) {
    if (!text.empty()) a.host = text;
    return a;
  }
  if (colon > 0) a.host = text.substr(0, colon);
  port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  int port = 0;
  for (char ch : port_text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    port = port * 10 + (ch - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  a.port = port;
  return a;
}

Expected<std::vector<TheftKind>> parse_theft_kinds(const std::string& text) {
  std::vector<TheftKind> out;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    const auto kind = theft_kind_from_name(name);
    if (!kind || *kind == TheftKind::kNone) {
      std::string known;
      for (TheftKind k : kAllTheftKinds) known += std::string(known.empty() ? "" : ", ") + theft_kind_name(k);
      return Error::invalid("theft kind", name, "unknown theft kind '" + name + "' (known: " + known + ")");
    }
    out.push_back(*kind);
  }
  return out;
}

std::string describe_stats(const FleetStats& s, std::size_t meters) {
  char buf[400];
  std::snprintf(
      buf, sizeof(buf),
      "%zu meters, %llu/%llu connection(s) up; readings made %llu, acknowledged %llu, queued %llu, "
      "replayed %llu, dropped %llu, held for no subscriber %llu, refused %llu; events %llu; commands %llu",
      meters, static_cast<unsigned long long>(s.links_connected), static_cast<unsigned long long>(s.links),
      static_cast<unsigned long long>(s.readings_made), static_cast<unsigned long long>(s.readings_acked),
      static_cast<unsigned long long>(s.readings_queued), static_cast<unsigned long long>(s.readings_replayed),
      static_cast<unsigned long long>(s.readings_dropped), static_cast<unsigned long long>(s.readings_unrouted),
      static_cast<unsigned long long>(s.readings_refused), static_cast<unsigned long long>(s.events_published),
      static_cast<unsigned long long>(s.commands_received));
  return buf;
}

}  // namespace wattguard::fleet
