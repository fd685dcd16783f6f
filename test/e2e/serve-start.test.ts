import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import { ADMIN_KEY, simulators, waitFor } from "./harness.js";

const MAIN = join(process.cwd(), "dist/src/main.js");
/** A start that fails must end well within this; a hung one is killed when it passes. */
const PROMPTLY_MS = 8000;

const sims = simulators();
const dirs: string[] = [];

afterEach(async () => {
  await sims.closeAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** `flotilla serve` with these arguments (later ones win) and this config file, in a fresh data dir. */
function serve(args: string[], yaml = ""): { proc: ChildProcess; ended: Promise<Ended> } {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-start-"));
  dirs.push(dir);
  const config = join(dir, "flotilla.yaml");
  writeFileSync(config, yaml);
  const env = { PATH: process.env.PATH ?? "", FLOTILLA_EMBEDDED__TINY: "off", FLOTILLA_ADMIN_KEY: ADMIN_KEY };
  const proc = spawn(process.execPath, [MAIN, "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warn", "--data-dir", join(dir, "data"), "--config", config, ...args], { env });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const ended = new Promise<Ended>((resolve) => {
    const hung = setTimeout(() => proc.kill("SIGKILL"), PROMPTLY_MS);
    proc.once("exit", (code, signal) => {
      clearTimeout(hung);
      resolve({ code, signal, output });
    });
  });
  return { proc, ended };
}

describe("a start that fails, or is stopped, ends the process promptly", () => {
  test("a port that is taken: exit 1, saying why", async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    t.after(() => taken.close());
    const { code, signal, output } = await serve(["--port", String((taken.address() as { port: number }).port)]).ended;
    assert.equal(signal, null, `still running after ${PROMPTLY_MS} ms:\n${output}`);
    assert.equal(code, 1);
    assert.match(output, /flotilla: listen EADDRINUSE/);
  });

  test("a data dir that cannot be made: exit 1, saying why", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "flotilla-start-")), "a-file");
    dirs.push(join(file, ".."));
    writeFileSync(file, "");
    const { code, signal, output } = await serve(["--data-dir", join(file, "data")]).ended;
    assert.equal(signal, null, `still running after ${PROMPTLY_MS} ms:\n${output}`);
    assert.equal(code, 1);
    assert.match(output, /flotilla: ENOTDIR/);
  });

  test("SIGTERM while starting: the start ends, what it opened is closed, and the process exits 0 before it says it listens", async () => {
    const silent = await sims.start({ kind: "ollama" });
    silent.fail({ hang: true });
    const run = serve(["--server", `${silent.url},ollama`], "poll:\n  timeout_ms: 1500\n");
    await waitFor("the start to poll the server", () => silent.requests.length > 0);
    run.proc.kill("SIGTERM");
    const { code, signal, output } = await run.ended;
    assert.equal(signal, null, `ended by the signal, not by the gateway:\n${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /SIGTERM while starting/);
    assert.doesNotMatch(output, /listening on/);
  });

  test("SIGTERM while a start is stuck: exit 1 once the shutdown timeout has passed", async () => {
    const silent = await sims.start({ kind: "ollama" });
    silent.fail({ hang: true });
    const run = serve(["--server", `${silent.url},ollama`], "poll:\n  timeout_ms: 60000\nshutdown_timeout_ms: 500\n");
    await waitFor("the start to poll the server", () => silent.requests.length > 0);
    const sent = Date.now();
    run.proc.kill("SIGTERM");
    const { code, signal, output } = await run.ended;
    assert.equal(signal, null, `ended by the signal, not by the gateway:\n${output}`);
    assert.equal(code, 1, output);
    assert.match(output, /flotilla: SIGTERM while starting, and the start did not end within 500 ms/);
    assert.ok(Date.now() - sent < 3000, `took ${Date.now() - sent} ms`);
  });
});
