#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node's test runner.
// Node 20's --test takes no globs, so the files are listed here.
// Arguments filter by path substring: `node scripts/run-tests.mjs fleet proxy`.
// The dashboard's per-panel browser suites (test/browser/panels/) are long variants:
// `npm test` leaves them out and `.ci/run` runs them after it (`npm run test:panels`, i.e. `--panels`).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith(".test.js") ? [path] : [];
  });
}

const PANELS = join("dist", "test", "browser", "panels");
const args = process.argv.slice(2);
const panels = args.includes("--panels");
const filters = args.filter((a) => a !== "--panels");
const files = findTests("dist")
  .filter((f) => f.startsWith(PANELS) === panels)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files found under dist/ (did tsc run?)");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
