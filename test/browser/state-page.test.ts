import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import type { SimServer } from "../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, type Flotilla } from "../e2e/harness.js";

/** Debian's Chromium (apt-get install chromium); .ci/run installs it, and CI requires it. */
const CHROMIUM = process.env.FLOTILLA_CHROMIUM ?? "/usr/bin/chromium";
const REQUIRED = process.env.FLOTILLA_REQUIRE_SERVICES === "1";
// What this machine's closed network needs: no background calls home, no sandbox as root.
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const sims = simulators();
let gw: Flotilla;
let sim: SimServer;
let browser: Browser | undefined;
/** Why the tests skip, on a machine without Chromium (a hook cannot skip them itself). */
let missing: string | undefined;

describe("the /state page in headless Chromium", () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      if (REQUIRED) throw new Error(`Chromium not found at ${CHROMIUM}, and FLOTILLA_REQUIRE_SERVICES=1 requires it`);
      missing = `Chromium not found at ${CHROMIUM}: apt-get install chromium, or set FLOTILLA_CHROMIUM`;
      return;
    }
    sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${sim.url},ollama`] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
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
