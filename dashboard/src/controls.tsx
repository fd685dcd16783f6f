import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

/** The admin lists' controls: a switch, a pager, an error line, and a list that a change can read again and wait for. */

/** What went wrong, when something did: a paragraph, or `inline` beside buttons and in table cells. */
export function Alert({ text, inline = false }: { text?: string; inline?: boolean }) {
  if (!text) return null;
  return inline ? (
    <span role="alert" class="error">
      {text}
    </span>
  ) : (
    <p role="alert" class="error">
      {text}
    </p>
  );
}

/**
 * An on/off switch (a checkbox with role="switch", named by `label`). While `change` runs
 * (the call, then reading the list again) it shows the state asked for and cannot be
 * clicked; then it shows `on` again, which is what the gateway said. `change` shows its
 * own errors.
 */
export function Switch({ label, on, change }: { label: string; on: boolean; change: (on: boolean) => Promise<void> }) {
  const [asked, setAsked] = useState<boolean>();
  const [busy, setBusy] = useState(false);
  const flip = async (event: Event) => {
    const want = (event.currentTarget as HTMLInputElement).checked;
    setAsked(want);
    setBusy(true);
    try {
      await change(want);
    } catch {
      // `change` said what went wrong; the switch shows `on` again.
    } finally {
      setAsked(undefined);
      setBusy(false);
    }
  };
  const shown = asked ?? on;
  return (
    <label class="switch">
      <input type="checkbox" role="switch" aria-label={label} checked={shown} disabled={busy} onChange={flip} />
      <span aria-hidden="true">{shown ? "on" : "off"}</span>
    </label>
  );
}

/** Previous/next over an offset-and-limit list; nothing when everything fits on one page. */
export function Pager({ total, limit, offset, go, what }: { total: number; limit: number; offset: number; go: (offset: number) => void; what: string }) {
  if (total <= limit && offset === 0) return null;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label={`Pages of ${what}`}>
      <button type="button" disabled={offset === 0} onClick={() => go(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span>
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      <button type="button" disabled={last >= total} onClick={() => go(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

export interface List<T> {
  data?: T;
  error?: string;
  /** Reads the list again; resolves when it has (a switch waits for it). */
  load: () => Promise<void>;
  offset: number;
  setOffset: (offset: number) => void;
}

/** GET `path(offset)` when shown and whenever the offset changes. */
export function useList<T>(path: (offset: number) => string): List<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [offset, setOffset] = useState(0);
  const url = path(offset);
  const load = useCallback(
    () =>
      api<T>(url).then(
        (answer) => {
          setData(answer);
          setError(undefined);
        },
        (err: Error) => setError(err.message),
      ),
    [url],
  );
  useEffect(() => void load(), [load]);
  return { data, error, load, offset, setOffset };
}
