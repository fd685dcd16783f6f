import { spawn, type ChildProcess } from "node:child_process";

/** Starts `node ARGS` with only PATH and `env`, and resolves once its stdout matches `ready`. */
export function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) {
        proc.stdout?.off("data", onData);
        resolve({ proc, match });
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    proc.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${output}`)));
  });
}

/** A process that prints `{"url": …}` once it listens (the simulated server, the bare proxy). */
export async function startUrlProcess(args: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const { proc, match } = await startProcess(args, {}, /(\{"url".*\})\n/);
  return { proc, url: (JSON.parse(match[1] as string) as { url: string }).url };
}
