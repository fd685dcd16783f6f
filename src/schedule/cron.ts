import { Cron } from "croner";
import { FlotillaError } from "../kernel/index.js";

/** The IANA name `timezone` stands for, or a 400 naming `param`. */
export function checkTimezone(timezone: string, param = "timezone"): string {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new FlotillaError("invalid_request", `${param} "${timezone}" is not an IANA timezone (Europe/Paris, America/New_York, UTC)`, { param });
  }
}

/** `expression` as a schedule in `timezone`, or a 400 naming `param`: 5 fields, or 6 with seconds first. */
export function checkCron(expression: string, timezone: string, param = "cron"): Cron {
  try {
    return schedule(expression, timezone);
  } catch (err) {
    throw new FlotillaError("invalid_request", `${param} "${expression}" is not a cron expression: ${(err as Error).message}`, { param });
  }
}

/** A schedule that only computes times (it never runs anything itself). */
export function schedule(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, paused: true, mode: "5-or-6-parts" });
}

/** The first run at or after `from`, or null when there is none. */
export function nextRunAt(cron: Cron, from: number): number | null {
  return cron.nextRun(new Date(from - 1))?.getTime() ?? null;
}

/** Run times in [from, to), at most `max` of them; `capped` when more were left out. */
export function runsBetween(cron: Cron, from: number, to: number, max: number): { starts: number[]; capped: boolean } {
  const starts: number[] = [];
  for (let at = nextRunAt(cron, from); at !== null && at < to; at = nextRunAt(cron, at + 1)) {
    if (starts.length === max) return { starts, capped: true };
    starts.push(at);
  }
  return { starts, capped: false };
}

/** The hour and minute the clock on the wall of `timezone` shows at `ms`. */
export function wallClock(ms: number, timezone: string): { hour: number; minute: number } {
  const parts = clockFormat(timezone).formatToParts(new Date(ms));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { hour: part("hour"), minute: part("minute") };
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** Making a format costs milliseconds: one per timezone is kept (there are a few hundred). */
function clockFormat(timezone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone: timezone, hour: "numeric", minute: "numeric", hourCycle: "h23" });
    clockFormats.set(timezone, format);
  }
  return format;
}
