import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

export interface Loaded<T> {
  data?: T;
  error?: string;
  /** Loads again now (after a change the page made). */
  reload: () => void;
}

/**
 * GET `path` when the page shows it, and again `everyMs` after each answer when given; a null path loads nothing.
 * The last good answer stays on screen while a reload runs, so nothing jumps.
 */
export function useApi<T>(path: string | null, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);

  useEffect(() => {
    if (path === null) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The next round waits for this answer: a slow one is never cut off by the next.
    const next = () => {
      if (live && everyMs) timer = setTimeout(reload, everyMs);
    };
    api<T>(path).then(
      (answer) => {
        if (!live) return;
        setData(answer);
        setError(undefined);
        next();
      },
      (err: Error) => {
        if (!live) return;
        setError(err.message);
        next();
      },
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, round, everyMs]);
  return { data, error, reload };
}

/** A change the page makes on a click: `run` marks it busy, and keeps its error to show (and answers whether it worked). */
export function useAction(): { busy: boolean; error?: string; run: (change: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (change: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await change();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}
