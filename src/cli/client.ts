import { parseArgs } from "node:util";

/** What every command that talks to a running gateway takes. */
export const CLIENT_OPTIONS = {
  server: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
} as const;

export const CLIENT_HELP = `  --server URL           the gateway (FLOTILLA_SERVER, default http://127.0.0.1:8080)
  --key K                an API key (FLOTILLA_API_KEY, else FLOTILLA_ADMIN_KEY)
  --json                 print JSON, for scripts`;

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A small client of a gateway's own API, for the CLI. */
export class GatewayClient {
  constructor(
    readonly server: string,
    private readonly key: string | undefined,
  ) {}

  static from(values: { server?: string; key?: string }, env: NodeJS.ProcessEnv): GatewayClient {
    return new GatewayClient((values.server ?? env.FLOTILLA_SERVER ?? "http://127.0.0.1:8080").replace(/\/+$/, ""), values.key ?? env.FLOTILLA_API_KEY ?? env.FLOTILLA_ADMIN_KEY);
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.server + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (err) {
      throw new GatewayError(0, `cannot reach ${this.server}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new GatewayError(res.status, errorMessage(text) ?? `${res.status} ${res.statusText}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** The message of either surface's error shape. */
function errorMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: string | { message?: string } };
    return typeof body.error === "string" ? body.error : body.error?.message;
  } catch {
    return undefined;
  }
}

export function parseClientArgs<T extends Record<string, { type: "string" | "boolean"; multiple?: boolean }>>(argv: string[], options: T) {
  return parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, ...options }, strict: true, allowPositionals: true });
}

/** Rows as aligned columns, for people; the first row is the heading. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}
