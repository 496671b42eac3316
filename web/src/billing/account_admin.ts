// The meter page's "Account" card for admins: which tariff bills the meter (its own, or its area's and the
// default when none is set), whether it is prepaid, and whether its supply is protected from automatic
// disconnection (medical equipment, for example). Only what the admin changed is sent, so a card filled
// without the meter's settings (a meter no tariff applies to yet) cannot reset the others.

import { ApiError } from "../api";
import { h, set_text } from "../dom";
import { list_tariffs, put_billing_settings, type BillingSettings, type SettingsChange } from "./billing_api";

export class AccountAdmin {
  readonly element: HTMLElement;
  private readonly tariff = h("select", { id: "account-tariff", name: "tariff" }, h("option", { value: "" }, "The area's (or the default)"));
  private readonly prepaid = h("input", { type: "checkbox", id: "account-prepaid", name: "prepaid" });
  private readonly protect = h("input", { type: "checkbox", id: "account-protected", name: "protected" });
  private readonly message = h("p", { class: "form-message account-message", role: "status", "aria-live": "polite" });
  private filled = false;
  private wanted_tariff = "";
  private shown: BillingSettings | null = null;

  constructor(private readonly meter_id: string, private readonly on_changed: () => void) {
    const form = h("form", { class: "settings-form account-form" },
      h("label", { for: "account-tariff" }, "Tariff"), this.tariff,
      h("span", null), h("label", { class: "check", for: "account-prepaid" }, this.prepaid, " Prepaid"),
      h("span", null), h("label", { class: "check", for: "account-protected" }, this.protect,
        " Protected supply (never disconnected for lack of credit)"),
      h("button", { type: "submit", class: "primary" }, "Save account"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.element = h("section", { class: "card account-card", "aria-labelledby": "h-account" },
      h("h2", { id: "h-account" }, "Account (admin)"), form, this.message);
    void this.load_tariffs();
  }

  show(s: BillingSettings): void {
    if (this.filled) return;
    this.fill(s);
  }

  private fill(s: BillingSettings): void {
    this.filled = true;
    this.shown = s;
    this.wanted_tariff = s.tariff ?? "";
    this.tariff.value = this.wanted_tariff;
    this.prepaid.checked = s.prepaid;
    this.protect.checked = s.protected;
  }

  private async load_tariffs(): Promise<void> {
    try {
      const ids = [...new Set((await list_tariffs()).map((t) => t.id))].sort();
      this.tariff.append(...ids.map((id) => h("option", { value: id }, id)));
      this.tariff.value = this.wanted_tariff;
    } catch (err) {
      set_text(this.message, `Could not load the tariffs: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async save(): Promise<void> {
    this.message.dataset.kind = "";
    set_text(this.message, "Saving…");
    try {
      const change: SettingsChange = {};
      const tariff = this.tariff.value || null;
      if (tariff !== (this.shown?.tariff ?? null)) change.tariff = tariff;
      if (this.prepaid.checked !== (this.shown?.prepaid ?? false)) change.prepaid = this.prepaid.checked;
      if (this.protect.checked !== (this.shown?.protected ?? false)) change.protected = this.protect.checked;
      if (Object.keys(change).length === 0) {
        set_text(this.message, "Nothing to change.");
        return;
      }
      const saved = await put_billing_settings(this.meter_id, change);
      this.fill(saved);
      this.message.dataset.kind = "ok";
      set_text(this.message, "Saved.");
      this.on_changed();
    } catch (err) {
      this.message.dataset.kind = "error";
      const field = err instanceof ApiError && err.field ? ` (${err.field})` : "";
      set_text(this.message, `Not saved: ${err instanceof Error ? err.message : String(err)}${field}`);
    }
  }
}
