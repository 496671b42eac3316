// The meter page's "Prepaid credit" card: the balance (red below zero), the credit state (low, on emergency
// credit, disconnected for lack of credit), the append-only ledger, and for operators and admins a top-up
// form. The balance is always the server's: after a top-up the card shows the answer's, then reloads.

import { ApiError } from "../api";
import { h, set_text } from "../dom";
import { full_time } from "../format";
import { get_ledger, top_up, type LedgerEntry, type Prepaid } from "./billing_api";
import { is_negative, money_text, type Money } from "./money";

const kLedgerShown = 50;

export type CreditState = "ok" | "low" | "emergency" | "disconnected";

export function credit_state(p: Prepaid): CreditState {
  if (p.disconnected) return "disconnected";
  if (is_negative(p.balance)) return "emergency";
  if (p.low_credit && p.balance.minor <= p.low_credit.minor) return "low";
  return "ok";
}

export class PrepaidPanel {
  readonly element: HTMLElement;
  private readonly balance = h("span", { class: "figure-value num prepaid-balance" });
  private readonly state = h("p", { class: "prepaid-state", role: "status" });
  private readonly limits = h("p", { class: "muted prepaid-limits" });
  private readonly body = h("tbody");
  private readonly note = h("p", { class: "muted ledger-note" });
  private readonly message = h("p", { class: "form-message topup-message", role: "status", "aria-live": "polite" });

  constructor(private readonly meter_id: string, can_top_up: boolean, private readonly on_changed: () => void) {
    this.element = h("section", { class: "card prepaid-card", "aria-labelledby": "h-prepaid" },
      h("h2", { id: "h-prepaid" }, "Prepaid credit"),
      h("div", { class: "figure" }, h("span", { class: "tile-label" }, "Balance"), this.balance),
      this.state, this.limits,
      can_top_up ? this.top_up_form() : null,
      h("h3", null, "Ledger"),
      h("div", { class: "table-wrap" }, h("table", { class: "ledger" },
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Kind"),
          h("th", { scope: "col", class: "r" }, "Amount"), h("th", { scope: "col" }, "Cycle"), h("th", { scope: "col" }, "Reference"),
          h("th", { scope: "col" }, "By"))),
        this.body)),
      this.note);
  }

  show(p: Prepaid): void {
    this.show_balance(p.balance);
    const state = credit_state(p);
    this.state.dataset.state = state;
    const up_to = p.emergency_credit ? ` (up to ${money_text(p.emergency_credit)} may be used)` : "";
    const since = p.disconnected_ms ? ` since ${full_time(p.disconnected_ms)}` : "";
    set_text(this.state, {
      ok: "Credit available.",
      low: `Low credit: please top up (warning at ${money_text(p.low_credit)}).`,
      emergency: `On emergency credit: the balance is below zero${up_to}. Please top up.`,
      disconnected: `Disconnected for lack of credit${since}: a top-up that clears the debt switches the supply back on.`,
    }[state]);
    set_text(this.limits, [p.low_credit && `Low-credit warning at ${money_text(p.low_credit)}`,
      p.emergency_credit && `emergency credit ${money_text(p.emergency_credit)}`].filter(Boolean).join(" · "));
  }

  async load_ledger(): Promise<void> {
    try {
      const ledger = await get_ledger(this.meter_id);
      if (ledger.balance) this.show_balance(ledger.balance);
      this.body.replaceChildren(...ledger.entries.slice(0, kLedgerShown).map(row));
      set_text(this.note, ledger.entries.length === 0 ? "No entries yet."
        : ledger.entries.length > kLedgerShown ? `The newest ${kLedgerShown} of ${ledger.entries.length} entries.` : "");
    } catch (err) {
      set_text(this.note, `Could not load the ledger: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private show_balance(m: Money): void {
    set_text(this.balance, money_text(m));
    this.balance.dataset.minor = String(m.minor);
    this.balance.dataset.negative = is_negative(m) ? "true" : "false";
  }

  private top_up_form(): HTMLElement {
    const amount = h("input", { id: "topup-amount", name: "amount", inputmode: "decimal", autocomplete: "off", required: true,
      placeholder: "500.00", "aria-describedby": "topup-amount-error" });
    const reference = h("input", { id: "topup-reference", name: "reference", autocomplete: "off", maxlength: "512",
      placeholder: "counter receipt 17", "aria-describedby": "topup-reference-error" });
    const errors: Record<string, HTMLElement> = {
      amount: h("span", { class: "field-error", id: "topup-amount-error", "data-field": "amount" }),
      reference: h("span", { class: "field-error", id: "topup-reference-error", "data-field": "reference" }),
    };
    const button = h("button", { type: "submit", class: "primary" }, "Record top-up");
    const form = h("form", { class: "settings-form topup-form", novalidate: true, "aria-label": "Top up" },
      h("label", { for: "topup-amount" }, "Top-up amount"), h("div", { class: "field" }, amount, errors.amount),
      h("label", { for: "topup-reference" }, "Reference"), h("div", { class: "field" }, reference, errors.reference),
      button);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      for (const el of Object.values(errors)) set_text(el, "");
      button.disabled = true;
      this.message.dataset.kind = "";
      set_text(this.message, "Recording…");
      try {
        const done = await top_up(this.meter_id, amount.value.trim(), reference.value.trim());
        if (done.balance) this.show_balance(done.balance);
        set_text(this.message, `Recorded a top-up of ${money_text(done.entry.amount)}; the balance is ${money_text(done.balance)}.`);
        this.message.dataset.kind = "ok";
        form.reset();
        this.on_changed();
      } catch (err) {
        this.message.dataset.kind = "error";
        const message = err instanceof Error ? err.message : String(err);
        const at = err instanceof ApiError ? errors[err.field] : undefined;
        if (at) set_text(at, message);
        set_text(this.message, `Not recorded: ${message}`);
      } finally {
        button.disabled = false;
      }
    });
    // The form and its message travel together.
    return h("div", { class: "topup" }, h("h3", null, "Top up"), form, this.message);
  }
}

function row(e: LedgerEntry): HTMLTableRowElement {
  return h("tr", { "data-id": String(e.id), "data-kind": e.kind },
    h("td", null, full_time(e.time_ms)),
    h("td", null, e.kind),
    h("td", { class: `num r${e.amount && is_negative(e.amount) ? " negative" : ""}` }, money_text(e.amount)),
    h("td", null, e.cycle),
    h("td", { class: "ledger-reference" }, e.reference),
    h("td", null, e.actor));
}
