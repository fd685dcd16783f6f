import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ADMIN_KEY, startFlotilla, waitFor, type Flotilla } from "../../e2e/harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("users");
const XSS_NAME = "<img src=x onerror=window.__xss=1>";
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "another long password";

interface ListedUser {
  id: string;
  username: string;
  display_name: string | null;
  role: string;
}

let gw: Flotilla;
let browser: Browser | undefined;
let missing: string | undefined;

const listed = async () => ((await (await gw.admin("/api/users")).json()) as { users: ListedUser[] }).users;
const navLinks = (page: Page) => page.getByRole("navigation", { name: "Dashboard" }).getByRole("link").allTextContents();
const modelsWith = async (key: string) => (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;

async function signInWithPassword(page: Page, password: string): Promise<void> {
  await page.getByRole("heading", { name: "Sign in to Flotilla" }).waitFor();
  await page.getByLabel("Username").fill("casey");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

describe("the Users page", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    gw = await startFlotilla();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  test("an admin adds a user who signs in without the admin pages, changes their role and password, makes them a key shown once, and deletes them", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/users");
    await page.getByRole("heading", { name: "Users" }).waitFor();

    const add = page.getByRole("form", { name: "Add a user" });
    await add.getByLabel("Username").fill("casey");
    await add.getByLabel("Display name").fill(XSS_NAME);
    await add.getByLabel("Password").fill(PASSWORD);
    await add.getByLabel("Role").selectOption("user");
    await add.getByRole("button", { name: "Add the user" }).click();
    const row = page.locator("tr", { hasText: "casey" });
    await row.waitFor();
    const casey = (await listed()).find((u) => u.username === "casey");
    assert.deepEqual(casey && { display_name: casey.display_name, role: casey.role }, { display_name: XSS_NAME, role: "user" });
    assert.equal(await row.locator(".display-name").textContent(), XSS_NAME, "the display name shows as text");
    assert.equal(await page.locator("main img").count(), 0);
    await shot(page, "users");

    // The new user, in a browser of their own: no admin pages.
    const other = await watchedPage(browser);
    await other.page.goto(gw.url + "/dashboard/users");
    await signInWithPassword(other.page, PASSWORD);
    const links = await navLinks(other.page);
    assert.ok(links.includes("Notifications") && !links.includes("Users"), links.join(", "));
    assert.equal(await other.page.getByRole("heading", { name: "Users" }).count(), 0, "the Users address shows them another page");

    await row.getByRole("button", { name: "Change casey" }).click();
    const change = page.getByRole("form", { name: "Change casey" });
    await change.getByLabel("Role").selectOption("admin");
    await change.getByRole("button", { name: "Save" }).click();
    await row.locator("td", { hasText: /^admin$/ }).waitFor();
    assert.equal((await listed()).find((u) => u.username === "casey")?.role, "admin");

    // Now an admin, they see Users; the API refuses to let them delete themselves, and the page says why.
    await other.page.reload();
    await other.page.getByRole("link", { name: "Users" }).click();
    other.page.once("dialog", (dialog) => void dialog.accept());
    await other.page.getByRole("button", { name: "Delete casey" }).click();
    await other.page.getByRole("alert").getByText("you cannot delete your own account").waitFor();

    await row.getByRole("button", { name: "Change casey" }).click();
    await change.getByLabel("New password").fill(NEW_PASSWORD);
    await change.getByRole("button", { name: "Save" }).click();
    await change.waitFor({ state: "detached" });
    await other.page.reload();
    await signInWithPassword(other.page, NEW_PASSWORD);

    await row.getByRole("button", { name: "Make a key for casey" }).click();
    const shown = await page.getByLabel("The new key").inputValue();
    assert.match(shown, /^flt_/);
    assert.equal(await modelsWith(shown), 200, "the key works");
    await shot(page, "new-key");
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal(await page.getByLabel("The new key").count(), 0);
    assert.ok(!(await page.content()).includes(shown), "the key is shown once");

    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Delete casey" }).click();
    await row.waitFor({ state: "detached" });
    assert.equal((await listed()).some((u) => u.username === "casey"), false);
    await waitFor("the deleted user's key to stop working", async () => (await modelsWith(shown)) === 401);

    for (const p of [page, other.page]) assert.equal(await p.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    await other.page.close();
    // The refused self-delete is the one failed request the browser logs; nothing else may fail.
    const refused = /status of 409 \(Conflict\).*\/api\/users\//;
    assert.deepEqual([...problems, ...other.problems.filter((p) => !refused.test(p))], []);
  });

  test("reads on a phone, in dark mode, without a horizontal scroll", async (t) => {
    if (!browser) return t.skip(missing);
    await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "a-rather-long-username.for-a-phone", display_name: "A display name long enough to wrap" }) });
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/users");
    await page.locator("tr", { hasText: "a-rather-long-username" }).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await shot(page, "phone-dark");
    assert.deepEqual(problems, []);
  });
});
