// Enrolling the demo's Blynk meter.
#include "wattguard/demo/demo_blynk.h"

namespace wattguard::demo {

Expected<DemoBlynkMeter> enrol_demo_blynk_meter(serve::Server& server, int64_t now_ms) {
  DemoBlynkMeter out{kDemoBlynkMeter, ingest::generate_device_token()};
  if (!server.store().has_meter(out.meter_id)) {
    storage::MeterInfo info;
    info.id = out.meter_id;
    info.name = "Blynk sketch";
    info.area = "demo";
    if (auto added = server.store().add_meter(info); !added.ok()) return std::move(added).error();
    server.meters_changed();
  }
  if (auto set = server.device_keys().set(out.meter_id, ingest::DeviceProtocol::kBlynk, out.token, now_ms); !set.ok()) {
    return std::move(set).error();
  }
  return out;
}

std::string demo_blynk_instructions(const DemoBlynkMeter& meter, uint16_t port) {
  return "  blynk      meter " + meter.meter_id + ", token " + meter.token + " (new each run)\n" +
         "             in the sketch: Blynk.begin(\"" + meter.token + "\", ssid, pass, \"<this host>\", " +
         std::to_string(port) + ");\n";
}

}  // namespace wattguard::demo
