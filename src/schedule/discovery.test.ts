import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Queues } from "../queue/index.js";
import { openStore, type Store } from "../store/index.js";
import { Discovery } from "./discovery.js";
import type { DockerContainer } from "./docker.js";
import { ScheduledJobs } from "./jobs.js";

// Containers as Docker's GET /containers/json lists them: Names with a leading slash, Labels a string map.
const CONTAINERS: DockerContainer[] = [
  {
    Id: "8dfafdbc3a40aa",
    Names: ["/nightly-report"],
    Image: "report:latest",
    State: "running",
    Labels: {
      "flotilla.schedule.cron": "30 2 * * *",
      "flotilla.schedule.model": "llama3",
      "flotilla.schedule.timezone": "Europe/Paris",
      "flotilla.schedule.duration_ms": "600000",
      "flotilla.schedule.node": "gpu-1",
      "flotilla.schedule.queue": "nightly",
      "flotilla.schedule.data": '{"messages":[{"role":"user","content":"report"}]}',
      "com.example.vendor": "Acme",
    },
  },
  { Id: "9cd87474be90bb", Names: ["/pinger"], State: "exited", Labels: { "flotilla.schedule.cron": "*/5 * * * *", "flotilla.schedule.model": "phi3", "flotilla.schedule.webhook": "https://192.0.2.1/ping", "flotilla.schedule.name": "Ping" } },
  { Id: "aaaaaaaaaaaacc", Names: ["/typo"], Labels: { "flotilla.schedule.cron": "61 * * * *", "flotilla.schedule.model": "m", "flotilla.schedule.queue": "nightly" } },
  { Id: "bbbbbbbbbbbbdd", Names: ["/no-action"], Labels: { "flotilla.schedule.cron": "0 * * * *", "flotilla.schedule.model": "m" } },
  { Id: "ccccccccccccee", Names: ["/unlabelled"], Labels: { "com.example.vendor": "Acme" } },
];

let dir: string;
let docker: Server;
let store: Store;
let jobs: ScheduledJobs;
const asked: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "flotilla-docker-"));
  docker = createServer((req, res) => {
    asked.push(req.url ?? "");
    if (!req.url?.startsWith("/containers/json")) return void res.writeHead(404, { "content-type": "application/json" }).end('{"message":"page not found"}');
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(CONTAINERS));
  });
  await new Promise<void>((resolve) => docker.listen(join(dir, "docker.sock"), resolve));
  store = await openStore({ dataDir: dir });
  const queues = { configs: { get: (name: string) => (name === "nightly" ? { name } : undefined), isOwn: () => false } } as unknown as Pick<Queues, "configs">;
  jobs = new ScheduledJobs({ repo: store.scheduledJobs, queues, outbound: { urlProblem: async () => undefined }, concurrencyOf: () => 1 });
});

after(async () => {
  await new Promise((resolve) => docker.close(resolve));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("containers' flotilla.schedule.* labels declare jobs, read from the Docker socket; bad labels say what is wrong", async () => {
  const { found, reason } = await new Discovery(`unix://${join(dir, "docker.sock")}`, jobs).discover();
  assert.equal(reason, null);
  const filters = new URL(`http://docker${asked.at(-1)}`).searchParams;
  assert.deepEqual([filters.get("all"), JSON.parse(filters.get("filters") ?? "{}")], ["1", { label: ["flotilla.schedule.cron"] }], "only labelled containers, stopped ones too");
  assert.deepEqual(found.map((d) => d.container), ["nightly-report", "pinger", "typo", "no-action"], "the unlabelled container is passed over");
  assert.deepEqual(found[0].job, {
    name: "nightly-report",
    cron: "30 2 * * *",
    timezone: "Europe/Paris",
    model: "llama3",
    node: "gpu-1",
    durationMs: 600000,
    action: { type: "queue", queue: "nightly", tasks: [{ data: { messages: [{ role: "user", content: "report" }] } }] },
    enabled: true,
  });
  assert.deepEqual([found[1].job?.name, found[1].job?.action], ["Ping", { type: "webhook", url: "https://192.0.2.1/ping" }]);
  assert.match(found[2].problem ?? "", /61 \* \* \* \*/);
  assert.match(found[3].problem ?? "", /flotilla\.schedule\.queue/);
  assert.deepEqual(found.map((d) => d.imported), [null, null, null, null]);
});

test("importing makes each declared job once; a second import skips them, and the list shows what they became", async () => {
  const discovery = new Discovery(`unix://${join(dir, "docker.sock")}`, jobs);
  const first = await discovery.import();
  assert.deepEqual(first.imported.map((row) => [row.name, row.origin, row.timezone, row.duration_ms]), [
    ["nightly-report", "docker:nightly-report", "Europe/Paris", 600000],
    ["Ping", "docker:pinger", "UTC", 60000],
  ]);
  assert.deepEqual(first.skipped.map((s) => s.container), ["typo", "no-action"]);
  const again = await discovery.import(["pinger", "gone"]);
  assert.deepEqual(again.imported, []);
  assert.deepEqual(again.skipped, [
    { container: "pinger", reason: `imported already, as ${first.imported[1].id}` },
    { container: "gone", reason: "no container of that name declares a job" },
  ]);
  const { found } = await discovery.discover();
  assert.equal(found[0].imported?.id, first.imported[0].id);
  assert.equal((await store.scheduledJobs.list()).length, 2);
});

test("the Docker Engine API over tcp:// is read the same way", async () => {
  const tcp = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(CONTAINERS.slice(1, 2))));
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  try {
    const { found } = await new Discovery(`tcp://127.0.0.1:${(tcp.address() as { port: number }).port}`, jobs).discover();
    assert.deepEqual(found.map((d) => d.container), ["pinger"]);
  } finally {
    await new Promise((resolve) => tcp.close(resolve));
  }
});

test("without Docker the list is empty and says why; importing imports nothing", async () => {
  const missing = new Discovery(`unix://${join(dir, "no-such.sock")}`, jobs);
  const { found, reason } = await missing.discover();
  assert.deepEqual(found, []);
  assert.match(reason ?? "", /^Docker is not reachable at unix:\/\/.*no-such\.sock: connect ENOENT/);
  assert.deepEqual(await missing.import(), { imported: [], skipped: [], reason });
  assert.deepEqual(await new Discovery("", jobs).discover(), { found: [], reason: "schedule.docker_host is empty: discovery is off" });
});
