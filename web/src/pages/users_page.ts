// Users page (admins): every account with its role and meters; add an account, change a consumer's
// meters, delete an account. Errors from the API are shown with the field they name.

import { ApiError, add_user, delete_user, list_users, set_user_meters, type Role, type UserRecord } from "../api";
import { h, set_text } from "../dom";
import { full_time } from "../format";

const split_meters = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
const message_of = (err: unknown) =>
  err instanceof ApiError ? `${err.message}${err.field ? ` (${err.field})` : ""}` : String(err);

export function mount_users_page(root: HTMLElement): () => void {
  let closed = false;
  const body = h("tbody");
  const status = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const name = h("input", { id: "new-user-name", autocomplete: "off", required: true });
  const role = h("select", { id: "new-user-role" }, ...["consumer", "operator", "admin"].map((r) => h("option", { value: r }, r)));
  const password = h("input", { id: "new-user-password", type: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const meters = h("input", { id: "new-user-meters", placeholder: "m-0001, m-0002" });
  const form = h("form", { class: "user-form" },
    h("label", { for: "new-user-name" }, "Name"), name,
    h("label", { for: "new-user-role" }, "Role"), role,
    h("label", { for: "new-user-password" }, "Password (8+ characters)"), password,
    h("label", { for: "new-user-meters" }, "Meters (consumers)"), meters,
    h("button", { type: "submit", class: "primary" }, "Add user"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await add_user(name.value.trim(), role.value as Role, password.value, split_meters(meters.value));
      set_text(status, `Added ${name.value.trim()}.`);
      status.dataset.kind = "";
      form.reset();
      await load();
    } catch (err) {
      status.dataset.kind = "error";
      set_text(status, `Could not add the user: ${message_of(err)}`);
    }
  });

  function row(u: UserRecord): HTMLTableRowElement {
    const meter_input = h("input", { value: u.meters.join(", "), "aria-label": `Meters of ${u.name}`, class: "meters-input" });
    return h("tr", null,
      h("td", null, u.name), h("td", null, u.role),
      h("td", null, meter_input, " ", h("button", { type: "button", onclick: async () => {
        try {
          await set_user_meters(u.name, split_meters(meter_input.value));
          status.dataset.kind = "";
          set_text(status, `Saved the meters of ${u.name}.`);
        } catch (err) {
          status.dataset.kind = "error";
          set_text(status, `Could not save the meters of ${u.name}: ${message_of(err)}`);
        }
      } }, "Save")),
      h("td", null, u.created_ms ? full_time(u.created_ms) : ""),
      h("td", null, h("button", { type: "button", class: "danger", onclick: async () => {
        if (!window.confirm(`Delete the user ${u.name}? Their sessions end at once.`)) return;
        try {
          await delete_user(u.name);
          await load();
        } catch (err) {
          status.dataset.kind = "error";
          set_text(status, `Could not delete ${u.name}: ${message_of(err)}`);
        }
      } }, "Delete")));
  }

  async function load(): Promise<void> {
    try {
      const users = await list_users();
      if (!closed) body.replaceChildren(...users.map(row));
    } catch (err) {
      if (closed) return;
      status.dataset.kind = "error";
      set_text(status, `Could not load the users: ${message_of(err)}`);
    }
  }

  root.replaceChildren(h("section", { class: "page users-page" },
    h("h1", null, "Users"),
    h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", null,
      h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Role"), h("th", null, "Meters"), h("th", null, "Created"), h("th", null, ""))),
      body))),
    h("section", { class: "card", "aria-labelledby": "h-add-user" }, h("h2", { id: "h-add-user" }, "Add a user"), form, status)));
  void load();
  return () => { closed = true; };
}
