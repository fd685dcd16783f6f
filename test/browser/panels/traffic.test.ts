import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { ADMIN_KEY, simulators, startFlotilla, waitFor, type Flotilla } from "../../e2e/harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("traffic");
const XSS = "<img src=x onerror=window.__xss=1>";
const XSS_MODEL = `${XSS}:latest`;
const SOURCE = "nightly-batch";
const PASSWORD = "correct horse battery";

interface Row {
  id: string;
  model: string | null;
  status: number;
  tokens_in: number | null;
}
interface AuditPage {
  requests: Row[];
  next_cursor: string | null;
}
interface Usage {
  models: Array<{ model: string; tokens_in: number; tokens_out: number; requests: number }>;
}
interface Analytics {
  buckets: Array<{ ttft_ms_avg: number | null }>;
}

const sims = simulators();
let gw: Flotilla;
let browser: Browser | undefined;
let missing: string | undefined;

const json = async <T>(path: string): Promise<T> => (await (await gw.admin(path)).json()) as T;
const auditIds = (page: Page) => page.locator("table.audit tbody tr[data-request]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-request")));

/** Waits until the audit table shows exactly these request ids, in this order. */
async function showsRows(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction((want) => {
    const shown = [...document.querySelectorAll("table.audit tbody tr[data-request]")].map((r) => r.getAttribute("data-request"));
    return shown.join(",") === want.join(",");
  }, ids);
}

describe("the Traffic page", () => {
  before(async () => {
    // Chromium starts while the gateway does.
    const launched = launchChromium();
    launched.catch(() => undefined);
    const fast = await sims.start({ kind: "ollama", models: ["alpha:latest", "beta:latest", XSS_MODEL], loaded: ["alpha:latest"] });
    const slow = await sims.start({ kind: "ollama", models: ["slow:latest"], loaded: ["slow:latest"], tokens: Array.from({ length: 16 }, (_, i) => ` t${i}`), tokenIntervalMs: 400 });
    gw = await startFlotilla({ servers: [`${fast.url},ollama`, `${slow.url},ollama`] });
    ({ browser, missing } = await launched);
    if (!browser) return;

    // An account to sign in with, and a key of its own whose name is markup.
    const setup = await fetch(`${gw.url}/api/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: PASSWORD }) });
    const root = ((await setup.json()) as { user: { id: string } }).user;
    const made = await gw.admin(`/api/users/${root.id}/api-key`, { method: "POST", body: JSON.stringify({ name: XSS }) });
    const rootKey = ((await made.json()) as { key: string }).key;

    // Twelve requests: eight and two to known models, one to a model named like markup, one that fails.
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: rootKey, maxRetries: 0 });
    const ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${ADMIN_KEY}`, "x-ollama-source": SOURCE } });
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => openai.chat.completions.create({ model: "alpha:latest", messages: [{ role: "user", content: `question ${i}` }] })),
      ...Array.from({ length: 2 }, () => ollama.chat({ model: "beta:latest", messages: [{ role: "user", content: "hi" }] })),
      openai.chat.completions.create({ model: XSS_MODEL, messages: [{ role: "user", content: "hi" }] }),
      assert.rejects(openai.chat.completions.create({ model: "missing:latest", messages: [{ role: "user", content: "hi" }] }), /404|not found/i),
    ]);
    await waitFor("the twelve audit rows", async () => (await json<AuditPage>("/api/requests?limit=100")).requests.length >= 12);
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
  });

  test("shows the audit log as the API pages and filters it, usage with the API's token sums, and charts of the window", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 1280, height: 900 } });
    await page.goto(`${gw.url}/dashboard/traffic`);
    await page.getByLabel("Username").fill("root");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Traffic" }).waitFor();

    // The audit log: the API's rows, in its order; the failed one and the markup shown as text.
    const all = await json<AuditPage>("/api/requests?hours=24&limit=50");
    assert.equal(all.requests.length, 12);
    await showsRows(page, all.requests.map((r) => r.id));
    const failed = all.requests.find((r) => r.model === "missing:latest") as Row;
    assert.equal(failed.status, 404);
    assert.equal(await page.locator(`table.audit tr[data-request="${failed.id}"] .status-code`).textContent(), "404");
    const odd = all.requests.find((r) => r.model === XSS_MODEL) as Row;
    assert.equal(await page.locator(`table.audit tr[data-request="${odd.id}"] td`).nth(1).textContent(), XSS_MODEL);
    const byKey = all.requests.find((r) => r.model === "alpha:latest") as Row;
    assert.equal(await page.locator(`table.audit tr[data-request="${byKey.id}"] td`).nth(3).textContent(), `root · key ${XSS}`, "the caller: user and key name, as text");
    const bySource = all.requests.find((r) => r.model === "beta:latest") as Row;
    assert.match((await page.locator(`table.audit tr[data-request="${bySource.id}"] td`).nth(3).textContent()) ?? "", new RegExp(`· ${SOURCE}$`));

    // Filtering by model narrows the rows to what the API answers for the same filter.
    await page.getByLabel("Model", { exact: true }).fill("beta:latest");
    await page.getByRole("button", { name: "Filter" }).click();
    const beta = await json<AuditPage>("/api/requests?hours=24&limit=50&model=beta%3Alatest");
    assert.equal(beta.requests.length, 2);
    await showsRows(page, beta.requests.map((r) => r.id));

    // Paging: ten rows a page, then the next page by the API's cursor.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Rows a page").selectOption("10");
    await page.getByRole("button", { name: "Filter" }).click();
    const first = await json<AuditPage>("/api/requests?hours=24&limit=10");
    await showsRows(page, first.requests.map((r) => r.id));
    const second = await json<AuditPage>(`/api/requests?hours=24&limit=10&cursor=${first.next_cursor}`);
    assert.equal(second.requests.length, 2);
    await page.getByRole("button", { name: "Next page" }).click();
    await showsRows(page, second.requests.map((r) => r.id));
    assert.ok(await page.getByRole("button", { name: "Next page" }).isDisabled(), "the last page has no next one");
    await page.getByRole("button", { name: "Previous page" }).click();
    await showsRows(page, first.requests.map((r) => r.id));

    // Usage: the per-model token sums the API reports, to the token.
    const usage = await json<Usage>("/api/usage?hours=24");
    assert.equal(usage.models.length, 4);
    assert.ok(usage.models.find((m) => m.model === "alpha:latest")?.tokens_out, "the simulator's answers carry token counts");
    for (const m of usage.models) {
      const row = page.locator("table.usage-models tbody tr").filter({ has: page.locator("th", { hasText: m.model }) });
      assert.equal(await row.locator(".tokens-in").textContent(), String(m.tokens_in), `${m.model} tokens in`);
      assert.equal(await row.locator(".tokens-out").textContent(), String(m.tokens_out), `${m.model} tokens out`);
    }

    // Charts: two series of requests over the window's buckets; latency points where the API has buckets; a bar group per model.
    const analytics = await json<Analytics>("/api/analytics?hours=24");
    const requests = page.locator('[data-chart="requests"] path.chart-line');
    assert.equal(await requests.count(), 2);
    const slots = Number(await requests.first().getAttribute("data-points"));
    assert.ok(slots >= 96 && slots <= 98, `a 24-hour window in 15-minute buckets, not ${slots}`);
    assert.equal(Number(await requests.nth(1).getAttribute("data-points")), slots);
    const latency = page.locator('[data-chart="latency"] path.chart-line');
    assert.equal(await latency.count(), 3);
    assert.equal(Number(await latency.first().getAttribute("data-points")), analytics.buckets.length);
    assert.equal(Number(await latency.nth(1).getAttribute("data-points")), analytics.buckets.filter((b) => b.ttft_ms_avg !== null).length);
    const bars = await page.locator('[data-chart="tokens"] g.chart-bars').evaluateAll((groups) => groups.map((g) => g.getAttribute("data-item")));
    assert.deepEqual(bars.sort(), usage.models.map((m) => m.model).sort());
    assert.equal(await page.locator('[data-chart="tokens"] .chart-legend li').allTextContents().then((t) => t.join("|")), "Tokens in|Tokens out");
    // Tokens over time: a line per model that had any, over every bucket of the window.
    const lines = page.locator('[data-chart="tokens-over-time"] path.chart-line');
    const withTokens = usage.models.filter((m) => m.tokens_in + m.tokens_out > 0).map((m) => m.model);
    assert.deepEqual((await lines.evaluateAll((paths) => paths.map((p) => p.getAttribute("data-series")))).sort(), withTokens.sort());
    assert.deepEqual(await lines.evaluateAll((paths) => paths.map((p) => Number(p.getAttribute("data-points")))), withTokens.map(() => slots));

    // Another window: the last hour, in one-minute buckets.
    await page.getByLabel("Window").selectOption({ label: "Last hour" });
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="requests"] path.chart-line')?.getAttribute("data-points")) <= 62);
    const hour = await json<Analytics>("/api/analytics?hours=1");
    assert.equal(Number(await latency.first().getAttribute("data-points")), hour.buckets.length);
    await showsRows(page, first.requests.map((r) => r.id));
    await shot(page, "traffic");

    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.equal(await page.locator("main img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("a request being answered shows in the live feed, then as finished; on a phone in dark mode, signed in with a key", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/traffic");
    await page.locator(".live-feed tbody tr[data-request]").first().waitFor();

    const answer = gw.admin("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "slow:latest", stream: true, messages: [{ role: "user", content: "take your time" }] }) }).then((res) => res.text());
    const inFlight = await waitFor("the slow request in flight", async () => (await json<{ requests: Array<{ id: string; model: string }> }>("/api/distributed/requests")).requests.find((r) => r.model === "slow:latest"));
    const row = page.locator(`.live-feed tr[data-request="${inFlight.id}"]`);
    await row.locator(".state-answering").waitFor();
    assert.equal(await row.locator("td").nth(1).textContent(), "slow:latest");
    assert.equal(await page.locator(".live-feed tbody tr").first().getAttribute("data-request"), inFlight.id, "newest first");
    await shot(page, "live-phone-dark");

    await answer;
    await row.locator(".status-code", { hasText: "200" }).waitFor({ timeout: 15_000 });
    assert.equal(await row.locator("td").first().textContent(), "finished");
    assert.equal(await row.locator(".state-answering").count(), 0);

    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), "rgb(13, 17, 23)");
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await page.locator('[data-chart="tokens"] svg').waitFor();
    await shot(page, "phone-dark");
    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.deepEqual(problems, []);
  });
});
