import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (apt-get install chromium); .ci/run installs it, and CI requires it. */
export const CHROMIUM = process.env.FLOTILLA_CHROMIUM ?? "/usr/bin/chromium";
const REQUIRED = process.env.FLOTILLA_REQUIRE_SERVICES === "1";
// What this machine's closed network needs: no background calls home, no sandbox as root.
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/**
 * Chromium, or why there is none: on a machine without it the tests skip with that reason
 * (a hook cannot skip them itself); with FLOTILLA_REQUIRE_SERVICES=1 a missing browser fails.
 */
export async function launchChromium(): Promise<{ browser?: Browser; missing?: string }> {
  if (!existsSync(CHROMIUM)) {
    if (REQUIRED) throw new Error(`Chromium not found at ${CHROMIUM}, and FLOTILLA_REQUIRE_SERVICES=1 requires it`);
    return { missing: `Chromium not found at ${CHROMIUM}: apt-get install chromium, or set FLOTILLA_CHROMIUM` };
  }
  return { browser: await chromium.launch({ executablePath: CHROMIUM, args: FLAGS }) };
}

/** A page that records what the Content-Security-Policy refused and every script error. */
export async function watchedPage(browser: Browser, options: Parameters<Browser["newPage"]>[0] = {}): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage(options);
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && !/401|Unauthorized/.test(m.text()) && problems.push(`${m.text()} (${m.location().url})`));
  page.on("pageerror", (err) => problems.push(err.message));
  return { page, problems };
}

/** Screenshots go to the git-ignored screenshots/<suite>/: the tests' artifacts, never committed. */
export function screenshots(suite: string): (page: Page, name: string) => Promise<Buffer> {
  const dir = join(process.cwd(), "screenshots", suite);
  mkdirSync(dir, { recursive: true });
  return (page, name) => page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Opens the dashboard at `path` signed in with an API key (kept in the tab's sessionStorage). */
export async function signInWithKey(page: Page, baseUrl: string, key: string, path = "/dashboard"): Promise<void> {
  await page.goto(baseUrl + path);
  await page.getByLabel(/Or use an API key/).fill(key);
  await page.getByRole("button", { name: "Use the key" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}
