// Adding, re-keying and retiring meters through the API (admins): POST/DELETE /api/v1/meters.

import { call, normalize_meter, type MeterSummary } from "../api";

export type DeviceProtocol = "mqtt" | "blynk" | "emoncms";

export interface DeviceCredentials {
  mqtt_username?: string;
  mqtt_password?: string;
  blynk_token?: string;
  emoncms_apikey?: string;
}

// Where a device reaches the server, as the server knows its own ports (hosts are the browser's).
export interface ConnectHints {
  mqtt_port?: number;
  blynk_port?: number;
  blynk_tls_port?: number;
  emoncms_path?: string;
}

export interface NewMeter {
  id: string;
  name?: string;
  area?: string;
  owner?: string;
  protocols: DeviceProtocol[];
}

export interface Enrolled {
  meter: MeterSummary;
  credentials: DeviceCredentials;
  connect: ConnectHints;
}

export async function add_meter(m: NewMeter): Promise<Enrolled> {
  const body: Record<string, unknown> = { id: m.id, protocols: m.protocols };
  for (const key of ["name", "area", "owner"] as const) if (m[key]) body[key] = m[key];
  const r = await call<{ meter: Record<string, unknown>; credentials: DeviceCredentials; connect?: ConnectHints }>(
    "POST", "/api/v1/meters", body);
  return { meter: normalize_meter(r.meter), credentials: r.credentials ?? {}, connect: r.connect ?? {} };
}

export async function rotate_credentials(id: string): Promise<{ credentials: DeviceCredentials; connect: ConnectHints }> {
  const r = await call<{ credentials: DeviceCredentials; connect?: ConnectHints }>(
    "POST", `/api/v1/meters/${encodeURIComponent(id)}/credentials`, {});
  return { credentials: r.credentials ?? {}, connect: r.connect ?? {} };
}

export async function retire_meter(id: string): Promise<void> {
  await call("DELETE", `/api/v1/meters/${encodeURIComponent(id)}`);
}
