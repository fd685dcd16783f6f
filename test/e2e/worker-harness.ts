import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { waitFor, type Flotilla } from "./harness.js";

const MAIN = join(process.cwd(), "dist/src/main.js");

export interface WorkerProcess {
  proc: ChildProcess;
  output(): string;
  /** Waits until the worker logs a line matching `pattern`. */
  waitForLog(pattern: RegExp, ms?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `flotilla worker` as a child process, as an operator would on another machine. */
export function startWorker(args: string[], env: Record<string, string> = {}): WorkerProcess {
  return startAgent("worker", args, env);
}

/** Runs a dial-in command of the CLI (`worker`, `mcp-relay`) as a child process. */
export function startAgent(command: string, args: string[], env: Record<string, string> = {}): WorkerProcess {
  const proc = spawn(process.execPath, [MAIN, command, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  return {
    proc,
    output: () => output,
    waitForLog: (pattern, ms = 15_000) => waitFor(`${command} log ${pattern}:\n${output}`, () => pattern.exec(output)?.[0], ms),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await once(proc, "exit");
    },
  };
}

export interface NodeView {
  name: string;
  kind: string | null;
  api: string | null;
  up: boolean;
  models: string[];
  loaded: string[];
  in_flight: number;
  last_error: string | null;
  system?: { cpu?: { cores: number } };
}

export async function nodes(gw: Flotilla): Promise<NodeView[]> {
  const res = await gw.admin("/admin/servers");
  return ((await res.json()) as { servers: NodeView[] }).servers;
}

/** Waits until the named node is listed with `up` as given. */
export function waitForNode(gw: Flotilla, name: string, up = true, ms = 15_000): Promise<NodeView> {
  return waitFor(`node ${name} up=${up}`, async () => (await nodes(gw)).find((n) => n.name === name && n.up === up), ms);
}
