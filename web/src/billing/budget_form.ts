// The meter page's "Budget and notices" card: the consumer's budget per cycle (kWh and/or money), where
// notices go (phone, webhook) and which usage notices they do not want. The owner and admins edit it; the
// server checks every value, and its refusal is shown next to the field it names.

import { ApiError } from "../api";
import { h, set_text } from "../dom";
import { kNoticeKinds, put_billing_settings, type BillingSettings, type SettingsChange } from "./billing_api";

const kNoticeLabels: Record<string, string> = {
  slab_soon: "a slab bound is near",
  slab_crossed: "a slab bound was crossed",
  budget: "50, 80 and 100 % of the budget",
  bill_ready: "the bill is ready",
};

type TextField = "budget_kwh" | "budget_money" | "phone" | "webhook_url";

export class BudgetForm {
  readonly element: HTMLElement;
  private readonly inputs = new Map<TextField, HTMLInputElement>();
  private readonly errors = new Map<string, HTMLElement>();
  private readonly wanted = new Map<string, HTMLInputElement>();
  private readonly status = h("p", { class: "form-message budget-status", role: "status", "aria-live": "polite" });
  private readonly form: HTMLFormElement;
  private filled = false;

  constructor(private readonly meter_id: string, currency: string, private readonly can_edit: boolean) {
    const field = (key: TextField, label: string, attrs: Record<string, unknown>) => {
      const id = `billing-${key}`;
      const error = h("span", { class: "field-error", id: `${id}-error`, "data-field": key });
      const input = h("input", { id, name: key, "aria-describedby": `${id}-error`, disabled: !can_edit, ...attrs });
      this.inputs.set(key, input);
      this.errors.set(key, error);
      return [h("label", { for: id }, label), h("div", { class: "field" }, input, error)];
    };
    const opt_error = h("span", { class: "field-error", id: "billing-opt_out-error", "data-field": "opt_out" });
    this.errors.set("opt_out", opt_error);
    const boxes = kNoticeKinds.map((kind) => {
      const box = h("input", { type: "checkbox", name: "notice", value: kind, id: `notice-${kind}`, disabled: !can_edit });
      this.wanted.set(kind, box);
      return h("label", { class: "check", for: `notice-${kind}` }, box, ` ${kNoticeLabels[kind]}`);
    });
    // The check boxes sit below the label/field grid, not in it: a grid item spanning both columns would
    // widen the label column to its own width.
    this.form = h("form", { class: "budget-form", novalidate: true },
      h("div", { class: "settings-form" },
        ...field("budget_kwh", "Budget per cycle (kWh)", { inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 250" }),
        ...field("budget_money", `Budget per cycle (${currency || "money"})`, { inputmode: "decimal", autocomplete: "off", placeholder: "e.g. 2500.00" }),
        ...field("phone", "Phone for SMS (E.164)", { type: "tel", autocomplete: "tel", placeholder: "+919800000000" }),
        ...field("webhook_url", "Webhook URL", { type: "url", autocomplete: "off", placeholder: "https://…" })),
      h("fieldset", { class: "notice-kinds", "aria-describedby": "billing-opt_out-error" },
        h("legend", null, "Tell me when"), ...boxes, opt_error),
      can_edit ? h("button", { type: "submit", class: "primary" }, "Save") : null);
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.element = h("section", { class: "card budget-card", "aria-labelledby": "h-budget" },
      h("h2", { id: "h-budget" }, "Budget and notices"),
      can_edit ? null : h("p", { class: "muted" }, "Set by the meter's owner."),
      this.form, this.status);
  }

  // Fills the form from the server's settings once (later reloads must not undo what someone is typing).
  show(s: BillingSettings): void {
    if (this.filled) return;
    this.fill(s);
  }

  private fill(s: BillingSettings): void {
    this.filled = true;
    this.inputs.get("budget_kwh")!.value = s.budget_kwh ?? "";
    this.inputs.get("budget_money")!.value = s.budget_money ?? "";
    this.inputs.get("phone")!.value = s.phone;
    this.inputs.get("webhook_url")!.value = s.webhook_url;
    for (const [kind, box] of this.wanted) box.checked = !s.opt_out.includes(kind);
  }

  private clear_errors(): void {
    for (const [key, el] of this.errors) {
      set_text(el, "");
      this.inputs.get(key as TextField)?.removeAttribute("aria-invalid");
    }
  }

  private async save(): Promise<void> {
    if (!this.can_edit) return;
    this.clear_errors();
    const text = (key: TextField) => this.inputs.get(key)!.value.trim();
    const change: SettingsChange = {
      budget_kwh: text("budget_kwh") || null,
      budget_money: text("budget_money") || null,
      phone: text("phone"),
      webhook_url: text("webhook_url"),
      opt_out: [...this.wanted].filter(([, box]) => !box.checked).map(([kind]) => kind),
    };
    this.status.dataset.kind = "";
    set_text(this.status, "Saving…");
    try {
      const saved = await put_billing_settings(this.meter_id, change);
      this.fill(saved);
      set_text(this.status, "Saved.");
      this.status.dataset.kind = "ok";
    } catch (err) {
      this.status.dataset.kind = "error";
      const field = err instanceof ApiError ? err.field : "";
      const message = err instanceof Error ? err.message : String(err);
      const at = this.errors.get(field);
      if (at) {
        set_text(at, message);
        const input = this.inputs.get(field as TextField);
        input?.setAttribute("aria-invalid", "true");
        input?.focus();
        set_text(this.status, "Not saved: see the marked field.");
      } else {
        set_text(this.status, `Not saved: ${message}`);
      }
    }
  }
}
