/** The gateway's public APIs, called with the session cookie or, when one is saved, an API key. */

const KEY_ITEM = "flotilla-key";

export function savedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

/** Kept for this tab only: a key in sessionStorage is gone when the tab closes. */
export function saveKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Headers every call carries: the bearer key when one is in use, else none (the cookie goes by itself). */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = savedKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

/** The message of an error answer: `{error: "..."}` on /api, `{error: {message}}` on /v1. */
async function errorMessage(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { error?: string | { message?: string } } | undefined;
  const error = body?.error;
  if (typeof error === "string") return error;
  return error?.message ?? `${res.status} ${res.statusText}`;
}

export async function send(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
  const headers = authHeaders(init.body === undefined ? {} : { "content-type": "application/json" });
  const res = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: init.signal });
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  return res;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await send(path, init);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Server-sent events from a fetch body, one at a time (EventSource cannot send an Authorization header). */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) yield { event, data: data.join("\n") };
    }
  }
}

export interface Me {
  user: { id: string; username: string; display_name: string | null; role: string } | null;
  role: string;
  via: "session" | "key";
}
