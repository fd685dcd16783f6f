import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };

/** What /api/version reports (seed 003's build fields; Node's version stands where Go's was). */
export const BUILD = Object.freeze({
  version: pkg.version,
  build_date: "unknown",
  git_commit: "unknown",
  node_version: process.version,
});
