import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { SimServer } from "../sim/index.js";
import { simulators, startFlotilla, type Flotilla } from "../e2e/harness.js";
import { launchChromium, screenshots, watchedPage } from "./browser-harness.js";

const shot = screenshots("dashboard");
const XSS_MODEL = "<img src=x onerror=window.__xss=1>:latest";
const TOKENS = ["Hello", " from", " the", " simulated", " fleet", "."];

const sims = simulators();
let gw: Flotilla;
let chat: SimServer;
let odd: SimServer;
let browser: Browser | undefined;
/** Why the tests skip, on a machine without Chromium (a hook cannot skip them itself). */
let missing: string | undefined;

const nodeCard = (page: Page, model: string) => page.locator("li.node", { has: page.locator("dd.models", { hasText: model }) });

describe("the dashboard in headless Chromium", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    chat = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], tokens: TOKENS, tokenIntervalMs: 150 });
    odd = await sims.start({ kind: "ollama", models: [XSS_MODEL] });
    // No FLOTILLA_ADMIN_KEY and a fresh data dir: a first start, with no account yet.
    gw = await startFlotilla({ servers: [`${chat.url},ollama`, `${odd.url},ollama`], adminKey: null });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
  });

  test("first run: sets up the admin, signs in, follows a drain live, pulls a model with live progress, chats with streaming, shows a new key once and revokes it", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    const root = await page.goto(gw.url + "/");
    assert.match(root?.headers()["content-security-policy"] ?? "", /default-src 'self';.*frame-ancestors 'none'/);
    await page.getByRole("heading", { name: "Welcome to Flotilla" }).waitFor();
    await shot(page, "setup");
    await page.getByLabel("Username").fill("root");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create the admin" }).click();
    await page.getByRole("heading", { name: "Fleet" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Flotilla" }).waitFor();
    await page.getByLabel("Username").fill("root");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").getByText("wrong username or password").waitFor();
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();

    await page.getByText("Live", { exact: true }).waitFor();
    await page.locator("li.node").nth(1).waitFor();
    assert.equal(await page.locator("li.node").count(), 2);
    const serving = nodeCard(page, "m:latest");
    assert.equal(await serving.locator("dd.loaded").textContent(), "m:latest");
    assert.equal(await serving.locator(".badge").textContent(), "active");

    const other = nodeCard(page, XSS_MODEL);
    assert.equal(await other.locator("dd.models").textContent(), XSS_MODEL, "the model name shows as text");
    const otherName = (await other.getAttribute("data-node")) as string;
    await other.getByRole("button", { name: `Drain ${otherName}` }).click();
    await other.locator(".badge", { hasText: "drained" }).waitFor();
    await other.getByRole("button", { name: `Undrain ${otherName}` }).waitFor();
    // The page's own session cookie: there is no admin key to call with.
    const nodes = (await (await page.request.get(`${gw.url}/api/v1/nodes`)).json()) as { nodes: Array<{ id: string; drained: boolean }> };
    assert.equal(nodes.nodes.find((n) => n.id === otherName)?.drained, true);
    await shot(page, "fleet");

    // Models: pull one onto the serving node (the other is drained) and watch it arrive.
    const servingName = (await serving.getAttribute("data-node")) as string;
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByLabel("Model to pull").fill("pulled:latest");
    await page.getByRole("combobox", { name: /^Onto\b/ }).selectOption(servingName);
    await page.getByRole("button", { name: "Pull", exact: true }).click();
    const bar = page.getByRole("progressbar", { name: `Pulling pulled:latest onto ${servingName}` });
    await bar.waitFor();
    await page.locator("li.transfer", { has: bar }).locator(".badge", { hasText: "completed" }).waitFor();
    assert.equal(await bar.evaluate((p: HTMLProgressElement) => p.value), 100);
    await page.locator("tr", { hasText: "pulled:latest" }).waitFor();
    await shot(page, "models");

    await page.getByRole("link", { name: "Playground" }).click();
    assert.equal(new URL(page.url()).pathname, "/dashboard/playground");
    await page.getByLabel("Model").selectOption("m:latest");
    await page.getByLabel("Message", { exact: true }).fill("Say hello");
    await page.getByLabel("Message", { exact: true }).press("Enter");
    const answer = page.locator(".message.assistant p");
    // Part of the answer is on screen while the rest is still coming.
    await page.waitForFunction((whole) => {
      const text = document.querySelector(".message.assistant p")?.textContent ?? "";
      return text.startsWith("Hello") && text !== whole;
    }, TOKENS.join(""));
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await page.getByRole("button", { name: "Send" }).waitFor();
    assert.equal(await answer.textContent(), TOKENS.join(""));
    await shot(page, "playground");

    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByLabel("Name").fill("laptop");
    await page.getByRole("button", { name: "Make the key" }).click();
    const shown = await page.getByLabel("The new key").inputValue();
    assert.match(shown, /^flt_/);
    await page.locator("tr", { hasText: "laptop" }).waitFor();
    assert.equal((await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${shown}` } })).status, 200, "the shown key works");
    await shot(page, "new-key");
    await page.reload();
    await page.locator("tr", { hasText: "laptop" }).waitFor();
    assert.equal(await page.getByLabel("The new key").count(), 0);
    assert.ok(!(await page.content()).includes(shown), "after a reload the key is never shown again");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke laptop" }).click();
    await page.locator("tr", { hasText: "laptop" }).locator("td", { hasText: "revoked" }).waitFor();
    assert.equal((await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${shown}` } })).status, 401, "a revoked key stops working");

    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("the admin key printed at the first start signs in from a phone, in dark mode, without a horizontal scroll", async (t) => {
    if (!browser) return t.skip(missing);
    const printed = /flt_[\w-]{20,}/.exec(gw.output())?.[0];
    assert.ok(printed, "the first start printed an admin key");
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await page.goto(gw.url + "/dashboard");
    await page.getByLabel(/Or use an API key/).fill(printed);
    await page.getByRole("button", { name: "Use the key" }).click();
    await page.getByText("API key (admin)").waitFor();
    await page.locator("li.node").nth(1).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("flotilla-key")), printed);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, "rgb(13, 17, 23)", "dark colours follow prefers-color-scheme");
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await shot(page, "phone-dark");
    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.deepEqual(problems, []);
  });
});
