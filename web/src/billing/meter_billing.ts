// The billing part of the meter page: this cycle's running bill, prepaid credit, bills, budget and notices,
// and (admins) the account's tariff and prepaid switches. A server without tariffs shows nothing; a meter
// without a tariff shows one line. Reloaded every 30 s: prepaid meters are charged as energy is used.

import type { MeterSummary, SessionUser } from "../api";
import { h, set_text } from "../dom";
import { AccountAdmin } from "./account_admin";
import { BillHistory } from "./bill_history";
import { get_billing, is_off, type BillingStatus } from "./billing_api";
import { BudgetForm } from "./budget_form";
import { CyclePanel } from "./cycle_panel";
import { NoticesList } from "./notices_list";
import { PrepaidPanel } from "./prepaid_panel";

const kReloadMs = 30_000;

export class MeterBilling {
  readonly element = h("div", { class: "meter-billing" });
  private readonly note = h("p", { class: "muted billing-note" });
  private parts: {
    cycle: CyclePanel; prepaid: PrepaidPanel; bills: BillHistory; budget: BudgetForm; notices: NoticesList; admin: AccountAdmin | null;
  } | null = null;
  private tariff_only: AccountAdmin | null = null;
  private timer = 0;
  private closed = false;
  private request = 0;

  constructor(private readonly meter: MeterSummary, private readonly user: SessionUser) {
    this.element.append(this.note);
    this.note.hidden = true;
  }

  start(): void {
    void this.load();
  }

  destroy(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    this.parts?.cycle.destroy();
  }

  private async load(): Promise<void> {
    window.clearTimeout(this.timer);
    const id = ++this.request;
    try {
      const status = await get_billing(this.meter.id);
      if (this.closed || id !== this.request) return;
      // For tests and styles: "billed", "error", or why the meter is not billed.
      this.element.dataset.state = is_off(status) ? status.code : "billed";
      if (is_off(status)) {
        // No tariffs on this server: billing does not exist here, nothing to say. No tariff for this
        // meter: one line, so nobody looks for a bill that cannot be.
        this.note.hidden = status.code === "billing_not_configured";
        set_text(this.note, `This meter is not billed: ${status.message}`);
        this.drop_parts();
        // An admin can give the meter a tariff from here.
        if (status.code === "not_found" && this.user.role === "admin" && !this.tariff_only) {
          this.tariff_only = new AccountAdmin(this.meter.id, () => void this.load());
          this.element.append(this.tariff_only.element);
        }
        return;  // no polling: settings change rarely, and a page reload sees them
      }
      this.note.hidden = true;
      this.show(status);
    } catch (err) {
      if (this.closed || id !== this.request) return;
      this.element.dataset.state = "error";
      this.note.hidden = false;
      set_text(this.note, `Could not load this cycle's bill: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!this.closed) this.timer = window.setTimeout(() => void this.load(), kReloadMs);
  }

  private show(s: BillingStatus): void {
    // Billed now (an admin just gave it a tariff): the full cards replace the tariff-only one.
    this.tariff_only?.element.remove();
    this.tariff_only = null;
    const first = !this.parts;
    const parts = this.parts ?? this.build(s);
    parts.cycle.show(s);
    parts.bills.set_running_cycle(s.cycle.label);
    parts.budget.show(s.settings);
    parts.admin?.show(s.settings);
    parts.prepaid.element.hidden = s.prepaid === null;
    if (s.prepaid) {
      parts.prepaid.show(s.prepaid);
      void parts.prepaid.load_ledger();
    }
    if (first) void parts.bills.load();  // bills are issued once a month: the first load is enough
    void parts.notices.load();
  }

  private build(s: BillingStatus): NonNullable<MeterBilling["parts"]> {
    const role = this.user.role;
    const owner = role === "consumer" || (this.meter.owner !== "" && this.meter.owner === this.user.name);
    const reload = () => void this.load();
    const parts = {
      cycle: new CyclePanel(),
      prepaid: new PrepaidPanel(this.meter.id, role === "operator" || role === "admin", reload),
      bills: new BillHistory(this.meter.id),
      budget: new BudgetForm(this.meter.id, s.tariff.currency, owner || role === "admin"),
      notices: new NoticesList(this.meter.id),
      admin: role === "admin" ? new AccountAdmin(this.meter.id, reload) : null,
    };
    this.element.append(parts.cycle.element, parts.prepaid.element, parts.bills.element, parts.budget.element,
      parts.notices.element, ...(parts.admin ? [parts.admin.element] : []));
    this.parts = parts;
    return parts;
  }

  private drop_parts(): void {
    if (!this.parts) return;
    this.parts.cycle.destroy();
    this.element.replaceChildren(this.note);
    this.parts = null;
  }
}
