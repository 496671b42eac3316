// The one line to change in firmware people already run, per protocol, for the credentials just issued.
// Pure: the page shows what this returns.

import type { ConnectHints, DeviceCredentials } from "./enrol_api";

export interface FirmwareLine {
  protocol: "mqtt" | "blynk" | "emoncms";
  title: string;
  where: string;  // which setting or file the line goes in
  line: string;
}

// A host name that is safe to paste into C source and URLs (the page's own host otherwise).
const clean_host = (host: string) => host.replace(/[^A-Za-z0-9.:\-[\]]/g, "");

export function firmware_lines(id: string, c: DeviceCredentials, hints: ConnectHints, host: string): FirmwareLine[] {
  const h = clean_host(host) || "your-server";
  const lines: FirmwareLine[] = [];
  if (c.blynk_token) {
    const port = hints.blynk_port ?? 8080;
    lines.push({
      protocol: "blynk", title: "Blynk sketch",
      where: "in setup(), instead of the Blynk cloud's Blynk.begin",
      line: `Blynk.begin("${c.blynk_token}", ssid, pass, "${h}", ${port});`,
    });
  }
  if (c.emoncms_apikey) {
    const path = hints.emoncms_path ?? "/emoncms";
    lines.push({
      protocol: "emoncms", title: "emonESP / IoTaWatt / emonhub (emoncms)",
      where: "the uploader's emoncms server, path and API key settings",
      line: `server http://${h}${location.port ? `:${location.port}` : ""}${path}   apikey ${c.emoncms_apikey}`,
    });
  }
  if (c.mqtt_username && c.mqtt_password) {
    lines.push({
      protocol: "mqtt", title: "wattguard firmware (MQTT)",
      where: "the meter's settings (wattguard/v1 topics)",
      line: `mqtt://${c.mqtt_username}:${c.mqtt_password}@${h}:${hints.mqtt_port ?? 1883}   meter id ${id}`,
    });
  }
  return lines;
}
