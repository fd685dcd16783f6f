import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ADMIN_KEY, simulators, startFlotilla, type Flotilla } from "../../e2e/harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("schedules");
const XSS = "<img src=x onerror=window.__xss=1>";
const YAML = ["queues:", "  - { name: nightly, consumer: workers }", "schedule:", "  docker_host: 'unix:///nonexistent/docker.sock'", ""].join("\n");

interface Job {
  id: string;
  name: string;
  cron: string;
  model: string;
  node: string | null;
  durationMs: number;
  action: { type: string; queue?: string };
}

const sims = simulators();
let gw: Flotilla;
let browser: Browser | undefined;
let missing: string | undefined;

const listJobs = async () => ((await (await gw.admin("/api/scheduled-jobs")).json()) as { jobs: Job[] }).jobs;

/** Fills the page's job form and submits it; waits for the job's row. */
async function scheduleJob(page: Page, job: { name: string; cron: string; model: string; node: string; minutes: string }) {
  await page.getByLabel("Name", { exact: true }).fill(job.name);
  await page.getByLabel("Cron", { exact: true }).fill(job.cron);
  await page.getByLabel("Model", { exact: true }).fill(job.model);
  await page.getByLabel("Node (optional)").fill(job.node);
  await page.getByLabel("Expected duration (minutes)").fill(job.minutes);
  await page.getByLabel("Queue", { exact: true }).selectOption("nightly");
  await page.getByLabel(/^Tasks/).fill('{"messages":[{"role":"user","content":"report"}]}');
  await page.getByRole("button", { name: "Schedule the job" }).click();
  await page.locator("table.jobs td.job-name", { hasText: job.name }).waitFor();
}

describe("the Schedules page in headless Chromium", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    const sim = await sims.start({ kind: "ollama", models: ["m:latest", "n:latest"] });
    gw = await startFlotilla({ servers: [`${sim.url},ollama`], yaml: YAML });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
  });

  test("two overlapping jobs on one node made with the form show on the timeline as a conflict, listed; deleting one ends it", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/schedules");
    await page.getByRole("heading", { name: "Schedules", exact: true }).waitFor();
    await page.locator(".no-conflicts").waitFor();

    await scheduleJob(page, { name: XSS, cron: "0 3 * * *", model: "m:latest", node: "gpu-1", minutes: "30" });
    await scheduleJob(page, { name: "nightly report", cron: "15 3 * * *", model: "n:latest", node: "gpu-1", minutes: "30" });
    const jobs = await listJobs();
    assert.deepEqual(
      jobs.map((j) => [j.name, j.cron, j.model, j.node, j.durationMs, j.action.type, j.action.queue]).sort(),
      [
        [XSS, "0 3 * * *", "m:latest", "gpu-1", 1_800_000, "queue", "nightly"],
        ["nightly report", "15 3 * * *", "n:latest", "gpu-1", 1_800_000, "queue", "nightly"],
      ].sort(),
    );
    const [first, second] = [jobs.find((j) => j.name === XSS) as Job, jobs.find((j) => j.name === "nightly report") as Job];

    // Both runs are drawn, each hatched and outlined as a conflict, and the collision is written out.
    await page.locator("rect.tl-conflict").nth(1).waitFor();
    assert.deepEqual((await page.locator("rect.tl-run").evaluateAll((rs) => rs.map((r) => [r.getAttribute("data-job"), r.getAttribute("data-conflict"), r.getAttribute("fill")]))).sort(), [
      [first.id, "true", "url(#tl-hatch)"],
      [second.id, "true", "url(#tl-hatch)"],
    ].sort());
    const fills = await page.locator("rect.tl-conflict").evaluateAll((rs) => rs.map((r) => getComputedStyle(r).fill));
    assert.ok(fills.every((f) => f.includes("#tl-hatch")), `hatched: ${fills.join(", ")}`);
    assert.equal(await page.locator("text.tl-mark").count(), 2, "a ⚠ beside each, not colour alone");
    const listed = await page.locator("ul.conflicts li").allTextContents();
    assert.equal(listed.length, 1, listed.join("\n"));
    assert.match(listed[0], /node gpu-1 takes fewer runs at once/);
    assert.ok(listed[0].includes(XSS) && listed[0].includes("nightly report"), listed[0]);
    assert.equal(await page.locator(`tr[data-job="${first.id}"] td.job-name`).textContent(), XSS, "the name shows as text");
    await shot(page, "conflict");

    // Changing a job through the form: a shorter expected run.
    await page.getByRole("button", { name: `Edit ${XSS}` }).click();
    await page.getByRole("heading", { name: `Change ${XSS}` }).waitFor();
    assert.equal(await page.getByLabel("Cron", { exact: true }).inputValue(), "0 3 * * *");
    await page.getByLabel("Expected duration (minutes)").fill("20");
    await page.getByRole("button", { name: "Save the changes" }).click();
    await page.getByRole("heading", { name: "Schedule a job" }).waitFor();
    assert.equal((await listJobs()).find((j) => j.id === first.id)?.durationMs, 1_200_000);

    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete nightly report" }).click();
    await page.locator(".no-conflicts").waitFor();
    assert.equal(await page.locator("rect.tl-conflict, text.tl-mark").count(), 0);
    assert.equal(await page.locator("rect.tl-run").count(), 1);
    assert.deepEqual((await listJobs()).map((j) => j.id), [first.id]);

    // An open time for another run of m on gpu-1, from the suggestions, goes into the form.
    await page.getByLabel("Model", { exact: true }).fill("m:latest");
    await page.getByLabel("Node (optional)").fill("gpu-1");
    await page.getByLabel("Expected duration (minutes)").fill("30");
    await page.getByRole("button", { name: "Suggest open times" }).click();
    const slot = page.locator("button.slot").first();
    await slot.waitFor();
    const cron = (await slot.locator(".mono").textContent()) as string;
    await slot.click();
    assert.equal(await page.getByLabel("Cron", { exact: true }).inputValue(), cron);

    await page.getByText("Jobs declared by Docker containers").click();
    const { reason } = (await (await gw.admin("/api/scheduled-jobs/discover")).json()) as { reason: string };
    await page.locator(".discover p.muted", { hasText: reason }).waitFor();

    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("on a phone in dark mode the timeline fits and nothing is wider than the screen", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/schedules");
    await page.locator("rect.tl-run").first().waitFor();
    await shot(page, "phone-dark");
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    assert.deepEqual(problems, []);
  });
});
