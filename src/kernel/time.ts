/** The latest and earliest instants a Date can hold (±100,000,000 days from 1970). */
const MAX_DATE_MS = 8.64e15;

/**
 * A stored time (ms since 1970) as ISO text, never throwing: a value no Date
 * can hold (a row written before its field had a bound, say) is shown as the
 * nearest one that can, so one odd row cannot make a whole list answer 500.
 */
export function isoTime(ms: number): string {
  const safe = Number.isNaN(ms) ? 0 : Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, Math.trunc(ms)));
  return new Date(safe).toISOString();
}

/** `isoTime`, with null kept as null (a time not yet reached: finished_at, last use). */
export function isoTimeOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoTime(ms);
}

/** A stored time (ms since 1970) as the whole Unix seconds OpenAI's and Jan's objects carry (`created_at`). */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
