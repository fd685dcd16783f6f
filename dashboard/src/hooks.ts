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
