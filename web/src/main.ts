// Application shell: checks the session, then routes #/ (fleet), #/meter/<id>, #/bill/<id>/<YYYY-MM>,
// #/billing, #/alerts, #/grid, #/transformer/<id>, #/users, #/meters/new (add a meter) and the sign-in page.
// Hash routes keep the server's job to static files and the API.

import "uplot/dist/uPlot.min.css";
import "./style.css";
import { current_user, prefetch_meters, set_unauthorized_handler, sign_out, type SessionUser } from "./api";
import { h, set_text } from "./dom";
import { install_perf_probe } from "./perf";
import { mount_add_meter_page } from "./pages/add_meter_page";
import { mount_alerts_page } from "./pages/alerts_page";
import { mount_bill_page } from "./pages/bill_page";
import { mount_billing_page } from "./pages/billing_page";
import { mount_fleet_page } from "./pages/fleet_page";
import { mount_grid_page } from "./pages/grid_page";
import { mount_meter_page } from "./pages/meter_page";
import { mount_signin_page } from "./pages/signin_page";
import { mount_transformer_page } from "./pages/transformer_page";
import { mount_users_page } from "./pages/users_page";

install_perf_probe();

const app = document.getElementById("app")!;
const user_el = h("span", { class: "user" });
const users_link = h("a", { href: "#/users" }, "Users");
const alerts_link = h("a", { href: "#/alerts" }, "Alerts");
const grid_link = h("a", { href: "#/grid" }, "Grid");
const billing_link = h("a", { href: "#/billing" }, "Billing");
const add_meter_link = h("a", { href: "#/meters/new" }, "Add meter");
const signout_button = h("button", { type: "button", class: "link", onclick: () => void do_sign_out() }, "Sign out");
const header = h("header", { class: "top" },
  h("a", { class: "brand", href: "#/" }, "wattguard"),
  h("nav", { class: "session", "aria-label": "Session" }, alerts_link, grid_link, billing_link, add_meter_link, users_link, user_el, signout_button));
const main = h("main", { id: "main", tabindex: "-1" });
app.replaceChildren(h("a", { class: "skip", href: "#main", onclick: (ev: Event) => { ev.preventDefault(); main.focus(); } }, "Skip to content"), header, main);

let user: SessionUser | null = null;
let unmount: (() => void) | null = null;

function show_signin(reason = ""): void {
  unmount?.();
  user = null;
  header.hidden = true;
  unmount = mount_signin_page(main, (u) => {
    user = u;
    // Back to where the user was going (e.g. a meter link opened while signed out).
    route();
  }, reason);
}

async function do_sign_out(): Promise<void> {
  await sign_out();
  show_signin();
}

set_unauthorized_handler(() => {
  if (user) show_signin("Your session has ended. Please sign in again.");
});

function route(): void {
  if (!user) {
    show_signin();
    return;
  }
  header.hidden = false;
  set_text(user_el, `${user.name} (${user.role})`);
  users_link.hidden = user.role !== "admin";
  add_meter_link.hidden = user.role !== "admin";
  alerts_link.hidden = user.role === "consumer";
  grid_link.hidden = user.role === "consumer";
  billing_link.hidden = user.role === "consumer";
  unmount?.();
  const hash = location.hash.replace(/^#/, "");
  const meter = /^\/meter\/(.+)$/.exec(hash);
  const bill = /^\/bill\/([^/]+)\/(\d{4}-\d{2})$/.exec(hash);
  const transformer = /^\/transformer\/(.+)$/.exec(hash);
  if (hash === "/meters/new" && user.role === "admin") {
    document.title = "Add a meter · wattguard";
    unmount = mount_add_meter_page(main);
  } else if (hash === "/users" && user.role === "admin") {
    document.title = "Users · wattguard";
    unmount = mount_users_page(main);
  } else if (hash === "/alerts" && user.role !== "consumer") {
    document.title = "Alerts · wattguard";
    unmount = mount_alerts_page(main);
  } else if (hash === "/grid" && user.role !== "consumer") {
    document.title = "Grid · wattguard";
    unmount = mount_grid_page(main);
  } else if (transformer && user.role !== "consumer") {
    const id = decodeURIComponent(transformer[1]);
    document.title = `Transformer ${id} · wattguard`;
    unmount = mount_transformer_page(main, id);
  } else if (hash === "/billing" && user.role !== "consumer") {
    document.title = "Billing · wattguard";
    unmount = mount_billing_page(main);
  } else if (bill) {
    const id = decodeURIComponent(bill[1]);
    document.title = `Bill ${bill[2]} of ${id} · wattguard`;
    unmount = mount_bill_page(main, id, bill[2]);
  } else if (meter) {
    const id = decodeURIComponent(meter[1]);
    document.title = `${id} · wattguard`;
    unmount = mount_meter_page(main, user, id);
  } else {
    document.title = user.role === "consumer" ? "My meters · wattguard" : "Fleet · wattguard";
    unmount = mount_fleet_page(main, user);
  }
  // Move focus to the new page for keyboard and screen-reader users (not on first load).
  if (document.activeElement && document.activeElement !== document.body) main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", () => route());

// The fleet list is for the fleet page: a meter, bill or billing page opened directly does not need it.
if (!/^#\/(meter\/|bill\/|billing$|meters\/new$|grid$|transformer\/)/.test(location.hash)) prefetch_meters();
current_user().then((u) => {
  user = u;
  route();
}).catch((err) => {
  main.replaceChildren(h("p", { class: "error", role: "alert" }, `Cannot reach the server: ${err instanceof Error ? err.message : String(err)}`));
});
