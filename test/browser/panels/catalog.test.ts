import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { httpMcpServer } from "../../fixtures/http-mcp-server.js";
import type { SimServer } from "../../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, userKey, waitFor, type Flotilla } from "../../e2e/harness.js";
import { startAgent, type WorkerProcess } from "../../e2e/worker-harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("catalog");
const XSS_MODEL = "<img src=x onerror=window.__xss=1>:latest";
const CLIENT_KEY = "relay-key-0123456789";
const FIXTURE = join(process.cwd(), "dist/test/fixtures/mcp-server.js");

interface Tool {
  name: string;
  is_active: boolean;
  enabled: boolean;
  disallowed_keywords?: string[];
  max_result_bytes: number | null;
}

const sims = simulators();
const pluginsDir = mkdtempSync(join(tmpdir(), "flotilla-catalog-plugins-"));
let gw: Flotilla;
let ollama: SimServer;
let web: Awaited<ReturnType<typeof httpMcpServer>>;
let relay: WorkerProcess | undefined;
let userKeyText: string;
let browser: Browser | undefined;
let missing: string | undefined;

const json = async <T>(res: Promise<Response>): Promise<T> => {
  const r = await res;
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as T;
};
/** The model ids a user who is not an admin is offered. */
const userModels = async () => (await json<{ data: Array<{ id: string }> }>(fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${userKeyText}` } }))).data.map((m) => m.id).sort();
const tool = (name: string) => json<{ data: Tool }>(gw.admin(`/v1/admin/mcp-tools/${encodeURIComponent(name)}`)).then((r) => r.data);
/** The tool names /v1/mcp's tools/list offers the admin key. */
const listedTools = async () => (await json<{ result: { tools: Array<{ name: string }> } }>(gw.admin("/v1/mcp/tools/list", { method: "POST", body: "{}" }))).result.tools.map((t) => t.name);

/** Clicks a switch and waits until the page has read the change back (the switch is usable again, in the new state). */
async function flip(page: Page, name: string, to: boolean): Promise<void> {
  const toggle = page.getByRole("switch", { name, exact: true });
  assert.equal(await toggle.isChecked(), !to, `${name} starts ${to ? "off" : "on"}`);
  await toggle.click();
  await page.waitForFunction(
    ([label, want]) => {
      const input = document.querySelector<HTMLInputElement>(`input[role="switch"][aria-label="${CSS.escape(label as string)}"]`);
      return input !== null && !input.disabled && input.checked === want;
    },
    [name, to] as const,
  );
}

describe("the catalog page: models, models on each server, MCP tools, relays, plugins", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    cpSync(join(process.cwd(), "plugins/example-least-recent"), join(pluginsDir, "example-least-recent"), { recursive: true });
    writeFileSync(join(pluginsDir, "broken.mjs"), 'throw new Error("broken on purpose");\n');
    [ollama, web] = await Promise.all([sims.start({ kind: "ollama", models: ["m:latest", XSS_MODEL] }), httpMcpServer()]);
    gw = await startFlotilla({
      servers: [`${ollama.url},ollama`],
      env: { FLOTILLA_CLIENT_KEY: CLIENT_KEY },
      yaml: ["mcp:", "  servers:", `    - { name: web, url: "${web.url}" }`, `plugins: { dir: "${pluginsDir}", required: false }`].join("\n"),
    });
    relay = startAgent("mcp-relay", ["--server", gw.url, "--client-key", CLIENT_KEY, "--id", "laptop", "--", process.execPath, FIXTURE]);
    [userKeyText] = await Promise.all([userKey(gw, "catalog-user"), relay.waitForLog(/callers reach it/)]);
  });
  after(async () => {
    await browser?.close();
    await relay?.stop();
    await gw?.stop();
    await web?.close();
    await sims.closeAll();
    rmSync(pluginsDir, { recursive: true, force: true });
  });

  test("an admin turns a model off from the page and users are no longer offered it; on a server, it is no longer routed there; on again, both come back", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/catalog");
    await page.getByRole("heading", { name: "Models", exact: true }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Catalog" }).getAttribute("aria-current"), "page");
    await page.getByRole("switch", { name: "m:latest offered" }).waitFor();
    assert.deepEqual(await page.locator("table.models .name").allTextContents(), [XSS_MODEL, "m:latest"], "the model names show as text");
    assert.deepEqual(await userModels(), [XSS_MODEL, "m:latest"].sort());

    await flip(page, "m:latest offered", false);
    assert.deepEqual(await userModels(), [XSS_MODEL], "a model turned off is hidden from users");
    const entry = await json<{ active: boolean; status: string }>(gw.admin("/v1/admin/models/catalogs/m:latest"));
    assert.equal(entry.active, false);
    assert.notEqual(entry.status, "updated", "a switch is not an edit of the entry");
    await shot(page, "model-off");
    await flip(page, "m:latest offered", true);
    assert.deepEqual(await userModels(), [XSS_MODEL, "m:latest"].sort());

    const server = new URL(ollama.url).host;
    const onServer = async () => (await json<{ data: Array<{ provider_original_model_id: string; active: boolean }> }>(gw.admin(`/v1/admin/models/provider-models?provider_id=${server}`))).data.find((p) => p.provider_original_model_id === "m:latest")?.active;
    await page.locator("li[data-server]", { hasText: server }).waitFor();
    await flip(page, `m:latest on ${server}`, false);
    assert.equal(await onServer(), false);
    await flip(page, `m:latest on ${server}`, true);
    assert.equal(await onServer(), true);
    await page.getByRole("button", { name: `Turn off every model on ${server}` }).click();
    await page.getByRole("switch", { name: `${XSS_MODEL} on ${server}` }).and(page.locator(":not(:checked)")).waitFor();
    const everyOne = await json<{ data: Array<{ active: boolean }> }>(gw.admin(`/v1/admin/models/provider-models?provider_id=${server}`));
    assert.deepEqual(everyOne.data.map((p) => p.active), [false, false]);
    await page.getByRole("button", { name: `Turn on every model on ${server}` }).click();
    await page.getByRole("switch", { name: `m:latest on ${server}` }).and(page.locator(":checked")).waitFor();

    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("an admin turns an MCP tool off and sets its filters from the page; the relay and the plugins are listed", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/catalog");
    await page.getByRole("switch", { name: "web__search enabled" }).waitFor();
    assert.ok((await listedTools()).includes("web__search"));

    await flip(page, "web__search enabled", false);
    const off = await tool("mcp_web__search");
    assert.deepEqual([off.is_active, off.enabled], [false, false]);
    assert.ok(!(await listedTools()).includes("web__search"), "tools/list leaves a tool turned off out");

    const card = page.locator("li.tool", { has: page.getByRole("heading", { name: "laptop__echo" }) });
    await card.getByText("Filters: none").click();
    await card.getByLabel(/Refused patterns/).fill("(?i)secret\n\necho: leak");
    await card.getByLabel("Most bytes a result may take").fill("2000");
    await card.getByRole("button", { name: "Save the filters" }).click();
    await card.getByText("Filters: 2 patterns, results up to 2.0 kB").waitFor();
    const filtered = await tool("laptop__echo");
    assert.deepEqual([filtered.disallowed_keywords, filtered.max_result_bytes], [["(?i)secret", "echo: leak"], 2000]);
    await card.getByLabel(/Refused patterns/).fill("(unclosed");
    await card.getByRole("button", { name: "Save the filters" }).click();
    await page.getByRole("alert").getByText(/laptop__echo: disallowed_keywords\[0\] is not a valid pattern/).waitFor();

    await page.locator('tr[data-relay="laptop"]').waitFor();
    const plugins = page.locator("table.plugins tbody tr");
    await plugins.nth(1).waitFor();
    const example = page.locator('tr[data-plugin="example-least-recent"]');
    assert.match((await example.textContent()) ?? "", /1\.0\.0.*folder.*strategies: least-recent.*loaded/);
    const broken = plugins.filter({ hasText: "broken on purpose" });
    assert.equal(await broken.locator(".badge").textContent(), "failed");
    await shot(page, "tools");

    await flip(page, "web__search enabled", true);
    assert.ok((await listedTools()).includes("web__search"));
    // The refused pattern's 400 is logged by the browser; it was meant.
    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
  });

  test("on a phone in dark mode the page fits the width", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/catalog");
    await page.getByRole("switch", { name: "web__search enabled" }).waitFor();
    await page.locator('tr[data-relay="laptop"]').waitFor();
    await page.locator('tr[data-plugin="example-least-recent"]').waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await shot(page, "phone-dark");
    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.deepEqual(problems, []);
  });
});
