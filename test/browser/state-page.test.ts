import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import type { SimServer } from "../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, type Flotilla } from "../e2e/harness.js";
import { launchChromium } from "./browser-harness.js";

const sims = simulators();
let gw: Flotilla;
let sim: SimServer;
let browser: Browser | undefined;
/** Why the tests skip, on a machine without Chromium (a hook cannot skip them itself). */
let missing: string | undefined;

describe("the /state page in headless Chromium", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${sim.url},ollama`] });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
  });

  test("asks for a key, then shows the fleet's node and follows a drain live", async (t) => {
    if (!browser) return t.skip(missing);
    const page = await browser.newPage();
    await page.goto(`${gw.url}/state`);
    assert.equal(await page.locator("#message").textContent(), "Not connected.");
    assert.equal(await page.locator("#nodes").textContent(), "none");

    await page.fill("#key", "flt_not_a_real_key_123456");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("message")?.textContent?.startsWith("Refused"));

    await page.fill("#key", ADMIN_KEY);
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("message")?.textContent === "Live.");
    const row = page.locator("#nodes tr").first();
    await row.locator("td", { hasText: "active" }).waitFor();
    const cells = await row.locator("td").allTextContents();
    assert.deepEqual([cells[2], cells[3], cells[4]], [sim.url, "m:latest", "m:latest"]);

    const name = cells[0];
    await gw.admin(`/api/v1/nodes/${name}/drain`, { method: "POST" });
    await row.locator("td", { hasText: "drained" }).waitFor();
    await page.locator("#events td", { hasText: "node_drained" }).waitFor();
    if (process.env.FLOTILLA_SCREENSHOT) await page.screenshot({ path: process.env.FLOTILLA_SCREENSHOT, fullPage: true });
  });
});
