import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ADMIN_KEY, simulators, startFlotilla, type Flotilla } from "../../e2e/harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("models");
const XSS_MODEL = "<img src=x onerror=window.__xss=1>:latest";

interface FleetModel {
  name: string;
  nodes: string[];
}

const sims = simulators();
let gw: Flotilla;
let exporter: Server;
let browser: Browser | undefined;
/** Why the tests skip, on a machine without Chromium (a hook cannot skip them itself). */
let missing: string | undefined;

/** A stand-in for beta's Prometheus node exporter: 4 cores whose load changes at each read, 6 of 8 GB and half the disk in use. */
async function startExporter(): Promise<string> {
  let reads = 0;
  exporter = createServer((_req, res) => {
    const text = [
      `node_load1 ${1 + (reads++ % 4)}`,
      ...[0, 1, 2, 3].map((cpu) => `node_cpu_seconds_total{cpu="${cpu}",mode="idle"} 100`),
      "node_memory_MemTotal_bytes 8e+09",
      "node_memory_MemAvailable_bytes 2e+09",
      'node_filesystem_size_bytes{mountpoint="/"} 1e+12',
      'node_filesystem_avail_bytes{mountpoint="/"} 5e+11',
    ].join("\n");
    res.writeHead(200, { "content-type": "text/plain" }).end(text);
  });
  await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(exporter.address() as { port: number }).port}/metrics`;
}

async function fleetModels(): Promise<FleetModel[]> {
  return ((await (await gw.admin("/api/distributed/models")).json()) as { models: FleetModel[] }).models;
}

const row = (page: Page, model: string) => page.locator("tr", { has: page.locator("th", { hasText: model }) });
const noXss = (page: Page) => page.evaluate(() => (window as { __xss?: unknown }).__xss);

describe("the Models page in headless Chromium", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    // A pull streams its eleven progress lines 300 ms apart: long enough to watch the bar move.
    const alpha = await sims.start({ kind: "ollama", models: ["m:latest", XSS_MODEL], loaded: ["m:latest"], tokenIntervalMs: 300 });
    const beta = await sims.start({ kind: "ollama", models: ["m:latest", "b:latest"], loaded: ["b:latest"], tokenIntervalMs: 300 });
    const yaml = [
      "poll:\n  interval_ms: 300",
      "events:\n  system_sample_ms: 200",
      "servers:",
      `  - { name: alpha, url: "${alpha.url}", kind: ollama }`,
      `  - { name: beta, url: "${beta.url}", kind: ollama, vram_bytes: 4000000000, node_exporter_url: "${await startExporter()}" }`,
    ].join("\n");
    gw = await startFlotilla({ yaml });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
    exporter?.close();
  });

  test("shows every model and where it lives; pulls onto a chosen node with live progress; sets copies; rebalances; deletes after a confirm", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/models");
    await page.getByRole("heading", { name: "Models" }).waitFor();
    await row(page, "b:latest").waitFor();
    assert.equal(await row(page, "m:latest").locator("td.where").textContent(), "alpha (loaded)beta");
    assert.equal(await row(page, "b:latest").locator("td.where").textContent(), "beta (loaded)");
    assert.equal(await row(page, XSS_MODEL).locator("th").textContent(), XSS_MODEL, "the model name shows as text");

    // Pull a new model onto beta: the bar appears, moves, and ends at 100%.
    await page.getByLabel("Model to pull").fill("fresh:latest");
    await page.getByRole("combobox", { name: /^Onto\b/ }).selectOption("beta");
    await page.getByRole("button", { name: "Pull", exact: true }).click();
    const bar = page.getByRole("progressbar", { name: "Pulling fresh:latest onto beta" });
    await bar.waitFor();
    await page.waitForFunction(() => {
      const value = document.querySelector<HTMLProgressElement>('progress[aria-label="Pulling fresh:latest onto beta"]')?.value ?? 0;
      return value > 0 && value < 100;
    });
    const transfer = page.locator("li.transfer", { has: bar });
    assert.match((await transfer.locator(".transfer-percent").textContent()) ?? "", /^\d+(\.\d)?%$/);
    await transfer.locator(".badge", { hasText: "completed" }).waitFor();
    assert.equal(await bar.evaluate((p: HTMLProgressElement) => p.value), 100);
    assert.equal(await transfer.locator(".transfer-percent").textContent(), "100%");
    await row(page, "fresh:latest").locator("td.where", { hasText: "beta" }).waitFor();
    assert.deepEqual((await fleetModels()).find((m) => m.name === "fresh:latest")?.nodes, ["beta"]);

    // m:latest is on two nodes; one copy is wanted, and a rebalance removes the other.
    await page.getByLabel("Copies wanted of m:latest").fill("1");
    await page.getByRole("button", { name: "Set copies of m:latest" }).click();
    await row(page, "m:latest").locator("td.copies", { hasText: "2 of 1" }).waitFor();
    await row(page, "m:latest").locator(".badge", { hasText: "over" }).waitFor();
    const status = (await (await gw.admin("/api/distributed/replication/status")).json()) as { models: Array<{ name: string; desired: number | null }> };
    assert.equal(status.models.find((m) => m.name === "m:latest")?.desired, 1);
    await page.getByRole("button", { name: "Rebalance" }).click();
    await page.getByRole("status", { name: "What the rebalance did" }).getByText("Deleted m:latest from beta").waitFor();
    await row(page, "m:latest").locator("td.where", { hasText: /^alpha \(loaded\)$/ }).waitFor();
    assert.deepEqual((await fleetModels()).find((m) => m.name === "m:latest")?.nodes, ["alpha"]);
    await shot(page, "models");

    // Delete asks first; a dismissed dialog deletes nothing.
    const asked: string[] = [];
    page.once("dialog", (dialog) => void (asked.push(dialog.message()), dialog.dismiss()));
    await page.getByRole("button", { name: "Delete fresh:latest" }).click();
    assert.equal(asked.length, 1);
    assert.ok((await fleetModels()).some((m) => m.name === "fresh:latest"), "dismissed: still there");
    page.once("dialog", (dialog) => void (asked.push(dialog.message()), dialog.accept()));
    await page.getByRole("button", { name: "Delete fresh:latest" }).click();
    await page.getByRole("status").getByText("Deleted fresh:latest from beta.").waitFor();
    await row(page, "fresh:latest").waitFor({ state: "detached" });
    assert.ok(asked.every((m) => m.startsWith("Delete fresh:latest from beta?")), asked.join(" | "));
    assert.ok(!(await fleetModels()).some((m) => m.name === "fresh:latest"), "the API no longer lists it");

    assert.equal(await noXss(page), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("moves a model from one node to another, and cancels a pull while it runs", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/models");
    await row(page, XSS_MODEL).locator("td.where", { hasText: "alpha" }).waitFor();
    await page.getByLabel("Model to move").selectOption(XSS_MODEL);
    await page.getByRole("combobox", { name: /^From\b/ }).selectOption("alpha");
    await page.getByRole("combobox", { name: /^To\b/ }).selectOption("beta");
    await page.getByRole("button", { name: "Migrate" }).click();
    const move = page.locator("li.transfer", { has: page.getByRole("progressbar", { name: `Moving ${XSS_MODEL} onto beta` }) });
    await move.locator(".badge", { hasText: "completed" }).waitFor();
    // The copy on alpha goes once the new one is complete.
    await row(page, XSS_MODEL).locator("td.where", { hasText: /^beta$/ }).waitFor();
    assert.deepEqual((await fleetModels()).find((m) => m.name === XSS_MODEL)?.nodes, ["beta"]);

    await page.getByLabel("Model to pull").fill("slow:latest");
    await page.getByRole("combobox", { name: /^Onto\b/ }).selectOption("alpha");
    await page.getByRole("button", { name: "Pull", exact: true }).click();
    const pull = page.locator("li.transfer", { has: page.getByRole("progressbar", { name: "Pulling slow:latest onto alpha" }) });
    await pull.getByRole("button", { name: "Cancel Pulling slow:latest onto alpha" }).click();
    await pull.locator(".badge", { hasText: "cancelled" }).waitFor();
    const id = (await pull.getAttribute("data-transfer")) as string;
    const stored = (await (await gw.admin(`/api/v1/transfers/${id}`)).json()) as { status: string };
    assert.equal(stored.status, "cancelled");
    assert.ok(!(await fleetModels()).some((m) => m.name === "slow:latest"));
    assert.equal(await noXss(page), undefined);
    assert.deepEqual(problems, []);
  });

  test("the fleet draws a node's machine and requests in flight as sparklines; a node that reports no machine says no data", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard");
    const beta = page.locator('li.node[data-node="beta"]');
    const alpha = page.locator('li.node[data-node="alpha"]');
    // The last hour's samples come first, then each poll adds a reading: the CPU line has points.
    await page.waitForFunction(() => (document.querySelector('li.node[data-node="beta"] svg[aria-label^="CPU"] polyline')?.getAttribute("points")?.split(" ").length ?? 0) >= 3);
    const gauge = (name: string) => beta.locator(".gauge", { has: page.locator(".gauge-name", { hasText: new RegExp(`^${name}$`) }) });
    assert.equal(await gauge("Memory").locator(".gauge-now").textContent(), "75%");
    assert.equal(await gauge("Disk").locator(".gauge-now").textContent(), "50%");
    assert.equal(await gauge("VRAM").locator(".gauge-now").textContent(), "25%", "the loaded 1 GB model of a declared 4 GB");
    assert.match((await gauge("CPU").locator(".gauge-now").textContent()) ?? "", /^(25|50|75|100)%$/);
    const size = await beta.locator('svg[aria-label^="CPU"]').boundingBox();
    assert.deepEqual([size?.width, size?.height], [120, 28], "a fixed-size chart");
    assert.equal(await alpha.locator(".gauge-none").textContent(), "Machine: no data");
    await alpha.locator('svg[aria-label^="In flight"]').waitFor();
    await shot(page, "fleet-sparklines");
    assert.deepEqual(problems, []);
  });

  test("on a phone in dark mode the models page fits the screen", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/models");
    await row(page, XSS_MODEL).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await shot(page, "phone-dark");
    await page.getByRole("link", { name: "Fleet" }).click();
    await page.locator('li.node[data-node="beta"] svg[aria-label^="VRAM"]').waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "the fleet's sparklines fit too");
    await shot(page, "fleet-phone-dark");
    assert.equal(await noXss(page), undefined);
    assert.deepEqual(problems, []);
  });
});
