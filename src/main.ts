#!/usr/bin/env node
import { runCli } from "./cli/index.js";

runCli(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === "number") process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`flotilla: ${err instanceof Error ? err.message : String(err)}\n`);
    // A failed command closes what it opened, but a pool or timer it missed must not keep the process alive.
    process.exit(1);
  },
);
