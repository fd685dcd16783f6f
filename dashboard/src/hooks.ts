import { useCallback, useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

export interface Loaded<T> {
  data?: T;
  error?: string;
  /** Loads again now (after a change the page made). */
  reload: () => void;
}

/**
 * GET `path` when the page shows it, and again every `everyMs` when given; a null path loads nothing.
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
    api<T>(path).then(
      (answer) => {
        if (!live) return;
        setData(answer);
        setError(undefined);
      },
      (err: Error) => live && setError(err.message),
    );
    const timer = everyMs ? setTimeout(reload, everyMs) : undefined;
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, round, everyMs]);
  return { data, error, reload };
}
