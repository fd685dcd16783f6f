import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ADMIN_KEY, simulators, startFlotilla, waitFor, type Flotilla } from "../../e2e/harness.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("queues");
const XSS = "<img src=x onerror=window.__xss=1>";
const ANSWER = "The quick brown fox jumps over lazy dogs.";
const QUEUES = ["queues:", "  - { name: batch }", "  - { name: jobs, consumer: workers }", "task_runner:", "  poll_ms: 50", ""].join("\n");

interface QueueView {
  name: string;
  paused: boolean;
  counts: Record<string, number>;
}
interface TaskView {
  id: string;
  state: string;
}

const sims = simulators();
let gw: Flotilla;
let browser: Browser | undefined;
let missing: string | undefined;
let done: string;
let waiting: string[];

async function addTask(queue: string, data: unknown): Promise<string> {
  const res = await gw.admin("/api/cli/tasks", { method: "POST", body: JSON.stringify({ queue, data }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { info: { id: string } }).info.id;
}
const getJson = async <T>(path: string): Promise<T> => (await gw.admin(path)).json() as Promise<T>;
const card = (page: Page, queue: string) => page.locator(`li.queue[data-queue="${queue}"]`);
/** What a queue's card shows: its count per state. */
const shownCounts = (page: Page, queue: string) =>
  card(page, queue).evaluate((li) => Object.fromEntries([...li.querySelectorAll(".count")].map((c) => [c.querySelector("dt")?.textContent, Number(c.querySelector("dd")?.textContent)])));

/** The elements that reach past the right edge of the screen (none, when the page has no horizontal scroll). */
const tooWide = (page: Page) =>
  page.evaluate(() => (document.documentElement.scrollWidth <= innerWidth ? [] : [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5).map((e) => `${e.tagName.toLowerCase()}.${e.className}`).slice(0, 8)));

describe("the Queues page in headless Chromium", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    const sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${sim.url},ollama`], yaml: QUEUES });
    // One task the gateway runs on the simulator, three that wait for a queue worker (the SQLite backend, the default).
    done = await addTask("batch", { api: "openai", model: "m", messages: [{ role: "user", content: XSS }] });
    waiting = [];
    for (let i = 0; i < 3; i++) waiting.push(await addTask("jobs", { n: i, note: XSS }));
    await waitFor("the batch task to complete", async () => (await getJson<TaskView>(`/api/cli/tasks/${done}`)).state === "completed");
    const registered = await gw.admin("/worker/register", { method: "POST", body: JSON.stringify({ worker_id: "resizer-1", queue: "jobs" }) });
    assert.equal(registered.status, 200);
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await sims.closeAll();
  });

  test("counts match the API; pause a queue; a task's input and result; cancel a task; the workers", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/queues");
    await page.getByRole("heading", { name: "Queues", exact: true }).waitFor();
    const { queues } = await getJson<{ queues: QueueView[] }>("/api/cli/queues");
    assert.deepEqual(queues.map((q) => q.name), ["batch", "jobs", "flotilla.responses"]);
    await card(page, "jobs").locator(".count-pending dd", { hasText: "3" }).waitFor();
    await card(page, "batch").locator(".count-completed dd", { hasText: "1" }).waitFor();
    for (const q of queues) assert.deepEqual(await shownCounts(page, q.name), q.counts, `the counts of ${q.name}`);
    assert.equal(await card(page, "jobs").locator(".badge").textContent(), "running");

    await page.getByRole("button", { name: "Pause jobs" }).click();
    await card(page, "jobs").locator(".badge", { hasText: "paused" }).waitFor();
    assert.equal((await getJson<QueueView>("/api/cli/queues/jobs")).paused, true, "the API says the queue is paused");
    await page.getByRole("button", { name: "Unpause jobs" }).waitFor();

    await page.getByRole("button", { name: "Tasks of batch" }).click();
    await page.getByRole("button", { name: `Open ${done}` }).click();
    const detail = page.locator(".task-detail");
    await detail.locator(".task-result").waitFor();
    const input = JSON.parse((await detail.locator(".task-input").textContent()) as string) as { messages: Array<{ content: string }> };
    assert.equal(input.messages[0].content, XSS, "the input shows as text");
    const result = JSON.parse((await detail.locator(".task-result").textContent()) as string) as { choices: Array<{ message: { content: string } }> };
    assert.equal(result.choices[0].message.content, ANSWER);
    assert.equal(await detail.locator(".badge").textContent(), "completed");
    assert.equal(await detail.getByRole("button", { name: `Cancel ${done}` }).count(), 0, "an ended task cannot be cancelled");
    await shot(page, "task");

    await page.getByRole("button", { name: "Tasks of jobs" }).click();
    await page.getByLabel("State").selectOption("pending");
    const row = page.locator(`tr[data-task="${waiting[1]}"]`);
    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: `Cancel ${waiting[1]}` }).click();
    await row.waitFor({ state: "detached" }); // no longer pending
    assert.equal((await getJson<TaskView>(`/api/cli/tasks/${waiting[1]}`)).state, "cancelled", "the API says the task is cancelled");
    await card(page, "jobs").locator(".count-cancelled dd", { hasText: "1" }).waitFor();
    await page.getByLabel("State").selectOption("cancelled");
    await page.locator(`tr[data-task="${waiting[1]}"] td.task-state`, { hasText: "cancelled" }).waitFor();

    await page.locator('tr[data-worker="resizer-1"]').getByText("online").waitFor();
    await shot(page, "queues");
    assert.equal(await page.evaluate(() => (window as { __xss?: unknown }).__xss), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("on a phone in dark mode nothing is wider than the screen", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/queues");
    await card(page, "jobs").waitFor();
    await page.getByRole("button", { name: "Tasks of jobs" }).click();
    await page.locator(`tr[data-task="${waiting[0]}"]`).waitFor();
    await page.getByRole("button", { name: `Open ${waiting[0]}` }).click();
    await page.locator(".task-detail .task-input").waitFor();
    await shot(page, "phone-dark");
    assert.deepEqual(await tooWide(page), [], "nothing is wider than the phone");
    assert.deepEqual(problems, []);
  });
});
