import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ADMIN_KEY, runCli, startFlotilla, taskStores, waitFor, type Flotilla } from "./harness.js";
import { startWorker, type WorkerProcess } from "./worker-harness.js";

// A long-running worker: says it is ready, then answers each task line; the first task asking to crash kills it once.
const LONG_RUNNING = `
const fs = require("node:fs");
const rl = require("node:readline").createInterface({ input: process.stdin });
console.log("starting up");
console.log(JSON.stringify({ ready: true }));
rl.on("line", (line) => {
  const { id, data } = JSON.parse(line);
  if (data.crash && !fs.existsSync(process.env.HOME + "/crashed-once")) {
    fs.writeFileSync(process.env.HOME + "/crashed-once", "yes");
    process.exit(3);
  }
  if (data.bad) return console.log(JSON.stringify({ id, error: "bad input", retryable: false }));
  const answer = () => console.log(JSON.stringify({ id, result: { doubled: data.n * 2, pid: process.pid } }));
  if (data.sleep_ms) setTimeout(answer, data.sleep_ms);
  else answer();
});
`;
const ONE_SHOT = `
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const { data } = JSON.parse(input);
  console.log("working");
  console.log(JSON.stringify({ result: { tripled: data.n * 3 } }));
});
`;

interface Info {
  state: string;
  result: { doubled?: number; tripled?: number; pid?: number } | null;
  attempts: number;
  error: string | null;
}

for (const store of await taskStores()) {
  describe(`flotilla worker --queue: a deployment cloned from git, fed tasks (seed 001) [${store.name}]`, { skip: store.skip }, () => {
    const root = mkdtempSync(join(tmpdir(), "flotilla-agent-"));
    const repo = join(root, "repo");
    let gw: Flotilla;
    const workers: WorkerProcess[] = [];

    before(async () => {
      execFileSync("git", ["init", "-q", "-b", "main", repo]);
      writeFileSync(join(repo, "worker.cjs"), LONG_RUNNING);
      writeFileSync(join(repo, "once.cjs"), ONE_SHOT);
      const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.test", ...args]);
      git("add", ".");
      git("commit", "-q", "-m", "worker");
      const deployment = (cmd: string) => `{ git_url: "file://${repo}", startup_cmd: "${cmd}", startup_timeout_secs: 20 }`;
      gw = await startFlotilla({
        yaml: [
          "queues:",
          `  - { name: jobs, consumer: workers, mode: long_running, retries: 2, backoff_ms: 0, timeout_secs: 10, deployment: ${deployment("node worker.cjs")} }`,
          `  - { name: once, consumer: workers, mode: one_shot, deployment: ${deployment("node once.cjs")} }`,
          `  - { name: kill, consumer: workers, mode: long_running, retries: 3, backoff_ms: 0, timeout_secs: 2, deployment: ${deployment("node worker.cjs")} }`,
          "task_runner: { lease_grace_ms: 500, poll_ms: 100 }",
        ].join("\n"),
        env: store.env,
      });
      for (const queue of ["jobs", "once"]) {
        const worker = startWorker(["--queue", queue, "--server", gw.url, "--id", `agent-${queue}`, "--work-dir", join(root, "work")], { FLOTILLA_API_KEY: ADMIN_KEY, HOME: root });
        workers.push(worker);
        await worker.waitForLog(new RegExp(`takes tasks of queue ${queue}`), 30_000);
      }
    });
    after(async () => {
      for (const w of workers) await w.stop();
      await gw.stop();
      rmSync(root, { recursive: true, force: true });
      await store.cleanup();
    });

    const add = async (queue: string, data: unknown) => {
      const res = await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue, data }) });
      return ((await res.json()) as { info: { id: string } }).info.id;
    };
    const ended = (id: string, queue: string) =>
      waitFor(`task ${id}`, async () => {
        const { info } = (await (await gw.admin(`/queue/${id}/${queue}`)).json()) as { info: Info };
        return ["completed", "failed", "archived"].includes(info.state) && info;
      }, 20_000);

    test("a long-running process takes tasks as JSON lines and answers each", async () => {
      const ids = await Promise.all([1, 2, 3].map((n) => add("jobs", { n })));
      const done = await Promise.all(ids.map((id) => ended(id, "jobs")));
      assert.deepEqual(done.map((t) => [t.state, t.result?.doubled]), [["completed", 2], ["completed", 4], ["completed", 6]]);
      assert.equal(new Set(done.map((t) => t.result?.pid)).size, 1, "one process served them all");
      const bad = await ended(await add("jobs", { bad: true }), "jobs");
      assert.deepEqual([bad.state, bad.error, bad.attempts], ["failed", "bad input", 1]);
      const { workers: listed } = (await (await gw.admin("/api/cli/workers")).json()) as { workers: Array<{ worker_id: string; completed: number }> };
      assert.ok((listed.find((w) => w.worker_id === "agent-jobs")?.completed ?? 0) >= 3);
      const cli = JSON.parse((await runCli(gw, ["workers", "list", "--json"])).stdout) as Array<{ worker_id: string; status: string }>;
      assert.deepEqual(cli.map((w) => [w.worker_id, w.status]), [["agent-jobs", "online"], ["agent-once", "online"]]);
      assert.match((await runCli(gw, ["workers", "show", "agent-jobs"])).stdout, /^WORKER\s+QUEUE\s+STATUS[^\n]*\nagent-jobs\s+jobs\s+online/);
    });

    test("a process that crashes is started again and its task retried", async () => {
      const before = (await ended(await add("jobs", { n: 0 }), "jobs")).result?.pid;
      const crashed = await ended(await add("jobs", { n: 5, crash: true }), "jobs");
      assert.deepEqual([crashed.state, crashed.result?.doubled, crashed.attempts], ["completed", 10, 2]);
      assert.notEqual(crashed.result?.pid, before, "a new process answered");
      assert.match(workers[0].output(), /the process died/);
    });

    test("a worker killed with SIGKILL mid-task loses it to the next worker; every task id in comes out completed", async () => {
      const agent = (n: number) => startWorker(["--queue", "kill", "--server", gw.url, "--id", `agent-kill-${n}`, "--work-dir", join(root, `work-kill-${n}`)], { FLOTILLA_API_KEY: ADMIN_KEY, HOME: root });
      const first = agent(1);
      workers.push(first);
      await first.waitForLog(/takes tasks of queue kill/, 30_000);
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => add("kill", { n, sleep_ms: 400 })));
      await waitFor("the first worker amid its tasks", async () => {
        const { counts } = (await (await gw.admin("/api/cli/queues/kill")).json()) as { counts: Record<string, number> };
        return counts.completed >= 1 && counts.active === 1;
      });
      first.proc.kill("SIGKILL");
      await new Promise((resolve) => first.proc.once("exit", resolve));
      const second = agent(2);
      workers.push(second);
      const done = await Promise.all(ids.map((id) => ended(id, "kill")));
      assert.deepEqual(done.map((t) => [t.state, t.result?.doubled]), [1, 2, 3, 4, 5, 6].map((n) => ["completed", n * 2]), "every task, each once, with its own answer");
      assert.ok(done.some((t) => t.attempts === 2), "the task held by the killed worker ran again");
    });

    test("a one-shot queue runs the command once per task", async () => {
      const done = await ended(await add("once", { n: 7 }), "once");
      assert.deepEqual([done.state, done.result?.tripled], ["completed", 21]);
    });
  });
}
