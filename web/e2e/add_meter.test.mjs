// End-to-end test of the Add-meter page in Debian's chromium against the real server (`wattguard demo`): an admin
// adds a meter for Blynk and emoncms firmware, sees its secrets once with the line to change in each firmware,
// and the emoncms key it was shown works against the real input API; re-keying from the page locks the old key
// out; retiring the meter locks the new one out. Operators and consumers have no such page.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { System, artifacts_dir, ensure_artifacts_dir, launch_browser, sign_in } from "./harness.mjs";

const system = new System();
if (!process.env.E2E_METERS) system.meter_count = 2;
const admin = { name: "e2e-admin", password: "admin-password-1" };
let browser;
let page;

async function emoncms_post(key, power) {
  const r = await fetch(`${system.url}/emoncms/input/post?node=e2e&json=${encodeURIComponent(`{power:${power},vrms:231}`)}&apikey=${encodeURIComponent(key)}`);
  return { status: r.status, text: await r.text() };
}

const secret = (key) => page.$eval(`code.secret[data-key=${key}]`, (el) => el.textContent);

describe("wattguard add-meter page", () => {
  before(async () => {
    ensure_artifacts_dir();
    await system.start();
    await system.add_user(admin.name, "admin", admin.password, []);
    browser = await launch_browser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
    page.on("dialog", (d) => void d.accept());
    await sign_in(page, system.url, admin.name, admin.password);
    await page.waitForSelector(".vlist .frow", { timeout: 40_000 });
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      await system.stop();
    }
  });

  test("an admin adds a Blynk and emoncms meter and sees its secrets once with the firmware lines", async () => {
    await page.click("a[href='#/meters/new']");
    await page.waitForSelector("form.enrol-form");
    await page.fill("#new-meter-id", "garage-1");
    await page.fill("#new-meter-name", "Garage");
    await page.fill("#new-meter-area", "demo");
    await page.uncheck("#new-meter-mqtt");
    await page.check("#new-meter-blynk");
    await page.check("#new-meter-emoncms");
    const answer = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/v1/meters");
    await page.click("form.enrol-form button[type=submit]");
    const response = await answer;
    assert.equal(response.status(), 201, await response.text());
    const api = await response.json();
    await page.waitForSelector(".enrol-result:not([hidden]) code.secret", { timeout: 10_000 });
    assert.equal(await secret("blynk_token"), api.credentials.blynk_token);
    assert.equal(await secret("emoncms_apikey"), api.credentials.emoncms_apikey);
    assert.equal(await page.$("code.secret[data-key=mqtt_password]"), null, "no MQTT secret for a meter without MQTT");
    const blynk_line = await page.$eval(".firmware-line[data-protocol=blynk] code", (el) => el.textContent);
    assert.match(blynk_line, new RegExp(`^Blynk\\.begin\\("${api.credentials.blynk_token}", ssid, pass, "127\\.0\\.0\\.1", \\d+\\);$`));
    const emon_line = await page.$eval(".firmware-line[data-protocol=emoncms] code", (el) => el.textContent);
    assert.ok(emon_line.includes("/emoncms") && emon_line.includes(api.credentials.emoncms_apikey), emon_line);
    await page.screenshot({ path: join(artifacts_dir, "add-meter.png"), fullPage: true });

    // The key shown works against the real input API, and the meter is in the fleet.
    assert.deepEqual(await emoncms_post(api.credentials.emoncms_apikey, 120), { status: 200, text: "ok" });
    const meter = await system.api("GET", "/api/v1/meters/garage-1");
    assert.equal(meter.status, 200);
    assert.equal(meter.json.meter.name, "Garage");
    assert.ok(!JSON.stringify(meter.json).includes(api.credentials.emoncms_apikey), "secrets are never served again");
  });

  test("the form names the field the server refused", async () => {
    await page.goto(`${system.url}/#/meters/new`);
    await page.waitForSelector("form.enrol-form");
    await page.fill("#new-meter-id", "garage-1");
    await page.click("form.enrol-form button[type=submit]");
    await page.waitForFunction(() => /Could not add the meter: .*already/.test(document.querySelector(".enrol-form + .form-message")?.textContent ?? ""), null, { timeout: 10_000 });
  });

  test("re-keying from the page locks the old key out, retiring locks the new one out", async () => {
    await page.goto(`${system.url}/#/meters/new`);
    await page.waitForSelector("form.manage-form");
    const old_key = (await system.api("POST", "/api/v1/meters/garage-1/credentials", {})).json.credentials.emoncms_apikey;
    await page.fill("#existing-meter-id", "garage-1");
    await page.click("form.manage-form button[type=submit]");
    await page.waitForSelector(".enrol-result:not([hidden]) code.secret[data-key=emoncms_apikey]", { timeout: 10_000 });
    const new_key = await secret("emoncms_apikey");
    assert.notEqual(new_key, old_key);
    assert.equal((await emoncms_post(old_key, 1)).status, 401);
    assert.equal((await emoncms_post(new_key, 2)).status, 200);
    await page.click("form.manage-form button.danger");
    await page.waitForFunction(() => /Retired garage-1/.test(document.querySelector(".manage-form + .form-message")?.textContent ?? ""), null, { timeout: 10_000 });
    assert.equal((await emoncms_post(new_key, 3)).status, 401);
    const meter = await system.api("GET", "/api/v1/meters/garage-1");
    assert.ok(meter.json.meter.retired_ms > 0);
  });

  test("operators see no Add-meter link and cannot add meters", async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    await sign_in(p, system.url, system.operator.name, system.operator.password);
    await p.waitForSelector(".vlist .frow", { timeout: 40_000 });
    assert.equal(await p.isVisible("a[href='#/meters/new']"), false);
    const r = await p.evaluate(async () => (await fetch("/api/v1/meters", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id: "op-1", protocols: ["emoncms"] }) })).status);
    assert.equal(r, 403);
    await context.close();
  });
});
