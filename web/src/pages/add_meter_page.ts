// Add-meter page (admins): register a meter for the protocols its firmware speaks, then show its secrets once
// with the one line to change in that firmware. A meter's secrets can also be re-issued or the meter retired.

import { ApiError } from "../api";
import { h, set_text } from "../dom";
import { add_meter, retire_meter, rotate_credentials, type ConnectHints, type DeviceCredentials, type DeviceProtocol } from "../enrol/enrol_api";
import { firmware_lines } from "../enrol/firmware_lines";

const message_of = (err: unknown) =>
  err instanceof ApiError ? `${err.message}${err.field ? ` (${err.field})` : ""}` : String(err);

const kProtocols: { value: DeviceProtocol; label: string }[] = [
  { value: "mqtt", label: "MQTT (wattguard firmware)" },
  { value: "blynk", label: "Blynk sketch" },
  { value: "emoncms", label: "emoncms uploader (emonESP, IoTaWatt, emonhub)" },
];

export function mount_add_meter_page(root: HTMLElement): () => void {
  const status = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const result = h("section", { class: "card enrol-result", "aria-labelledby": "h-enrol-result", hidden: true });
  const field = (id: string, label: string, attrs: Record<string, string | boolean> = {}) => {
    const input = h("input", { id, autocomplete: "off", ...attrs });
    return { input, nodes: [h("label", { for: id }, label), input] };
  };
  const id = field("new-meter-id", "Meter id", { required: true, pattern: "[A-Za-z0-9_-]{1,64}", placeholder: "flat-4b" });
  const name = field("new-meter-name", "Name");
  const area = field("new-meter-area", "Area");
  const owner = field("new-meter-owner", "Owner (consumer user)");
  const boxes = kProtocols.map((p) => h("input", { type: "checkbox", id: `new-meter-${p.value}`, value: p.value, checked: p.value === "mqtt" }));
  const protocols = h("fieldset", { class: "protocols" }, h("legend", null, "Its firmware speaks"),
    ...kProtocols.map((p, i) => h("label", { for: `new-meter-${p.value}` }, boxes[i], ` ${p.label}`)));
  const form = h("form", { class: "user-form enrol-form" }, ...id.nodes, ...name.nodes, ...area.nodes, ...owner.nodes, protocols,
    h("button", { type: "submit", class: "primary" }, "Add meter"));

  function show(meter_id: string, c: DeviceCredentials, hints: ConnectHints, verb: string): void {
    const rows: HTMLElement[] = [];
    const secret = (label: string, value: string | undefined, key: string) => {
      if (value) rows.push(h("tr", null, h("th", { scope: "row" }, label), h("td", null, h("code", { class: "secret", "data-key": key }, value))));
    };
    secret("MQTT user", c.mqtt_username, "mqtt_username");
    secret("MQTT password", c.mqtt_password, "mqtt_password");
    secret("Blynk auth token", c.blynk_token, "blynk_token");
    secret("emoncms API key", c.emoncms_apikey, "emoncms_apikey");
    const lines = firmware_lines(meter_id, c, hints, location.hostname);
    result.replaceChildren(
      h("h2", { id: "h-enrol-result" }, `${verb} ${meter_id}`),
      h("p", { class: "warning" }, "These secrets are shown once: the server keeps only their digests. Copy them now."),
      h("table", { class: "credentials" }, h("tbody", null, ...rows)),
      h("h3", null, "The one line to change"),
      ...lines.map((l) => h("div", { class: "firmware-line", "data-protocol": l.protocol },
        h("p", null, h("strong", null, l.title), ` — ${l.where}:`),
        h("pre", null, h("code", null, l.line)))),
      h("p", null, h("a", { href: `#/meter/${encodeURIComponent(meter_id)}` }, "Open the meter's page"), " (it shows readings as soon as they arrive)."));
    result.hidden = false;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value as DeviceProtocol);
    if (chosen.length === 0) {
      status.dataset.kind = "error";
      set_text(status, "Choose at least one protocol.");
      return;
    }
    try {
      const made = await add_meter({ id: id.input.value.trim(), name: name.input.value.trim(), area: area.input.value.trim(),
        owner: owner.input.value.trim(), protocols: chosen });
      status.dataset.kind = "";
      set_text(status, `Added ${made.meter.id}.`);
      show(made.meter.id, made.credentials, made.connect, "Added");
      form.reset();
      boxes.forEach((b) => { b.checked = b.value === "mqtt"; });
    } catch (err) {
      status.dataset.kind = "error";
      set_text(status, `Could not add the meter: ${message_of(err)}`);
    }
  });

  // Re-key or retire an existing meter.
  const existing = h("input", { id: "existing-meter-id", autocomplete: "off", required: true, placeholder: "meter id" });
  const manage_status = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const manage = h("form", { class: "user-form manage-form" }, h("label", { for: "existing-meter-id" }, "Meter id"), existing,
    h("div", { class: "button-row" },
      h("button", { type: "submit", class: "primary" }, "Issue new secrets"),
      h("button", { type: "button", class: "danger", onclick: async () => {
        const mid = existing.value.trim();
        if (!mid || !window.confirm(`Retire ${mid}? Its secrets stop working; its history is kept.`)) return;
        try {
          await retire_meter(mid);
          manage_status.dataset.kind = "";
          set_text(manage_status, `Retired ${mid}.`);
        } catch (err) {
          manage_status.dataset.kind = "error";
          set_text(manage_status, `Could not retire ${mid}: ${message_of(err)}`);
        }
      } }, "Retire")));
  manage.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const mid = existing.value.trim();
    try {
      const r = await rotate_credentials(mid);
      manage_status.dataset.kind = "";
      set_text(manage_status, `New secrets for ${mid}; the old ones no longer work.`);
      show(mid, r.credentials, r.connect, "New secrets for");
    } catch (err) {
      manage_status.dataset.kind = "error";
      set_text(manage_status, `Could not re-key ${mid}: ${message_of(err)}`);
    }
  });

  root.replaceChildren(h("section", { class: "page add-meter-page" },
    h("h1", null, "Add a meter"),
    h("p", null, "Meters that already run Blynk or emoncms firmware keep it: only the server's host name (and port) changes."),
    h("section", { class: "card", "aria-labelledby": "h-add-meter" }, h("h2", { id: "h-add-meter" }, "New meter"), form, status),
    result,
    h("section", { class: "card", "aria-labelledby": "h-manage-meter" }, h("h2", { id: "h-manage-meter" }, "Re-key or retire a meter"), manage, manage_status)));
  return () => {};
}
