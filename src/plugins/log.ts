import type { PluginLog } from "./api.js";

export interface LogSink {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type Level = keyof LogSink;

const MAX_PENDING = 1000;
/** A plugin failing on every request logs once per this interval, with how often it failed meanwhile. */
const REPEAT_MS = 60_000;

/**
 * The plugins' log lines, prefixed with the plugin's name. Plugins load before
 * the gateway's logger exists: lines written until `attach` are kept, then sent.
 */
export class PluginLogs {
  private sink: LogSink | undefined;
  private readonly pending: Array<[Level, string]> = [];
  private readonly repeats = new Map<string, { at: number; more: number }>();

  attach(sink: LogSink): void {
    this.sink = sink;
    for (const [level, line] of this.pending.splice(0)) sink[level](line);
  }

  forPlugin(plugin: string): PluginLog {
    const write = (level: Level) => (message: string) => this.write(level, `plugin ${plugin}: ${String(message)}`);
    return { info: write("info"), warn: write("warn"), error: write("error") };
  }

  /** An error from a plugin's code at run time (a hook, a strategy): logged at most once a minute per plugin and place. */
  failed(plugin: string, where: string, err: unknown): void {
    const key = `${plugin}\0${where}`;
    const now = Date.now();
    const seen = this.repeats.get(key);
    if (seen && now - seen.at < REPEAT_MS) {
      seen.more++;
      return;
    }
    const more = seen?.more ? ` (and ${seen.more} more times since the last report)` : "";
    this.repeats.set(key, { at: now, more: 0 });
    this.write("error", `plugin ${plugin}: ${where} failed: ${(err as Error)?.message ?? String(err)}${more}`);
  }

  private write(level: Level, line: string): void {
    if (this.sink) this.sink[level](line);
    else if (this.pending.length < MAX_PENDING) this.pending.push([level, line]);
  }
}
