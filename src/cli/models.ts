import type { Static } from "@sinclair/typebox";
import type { TransferView } from "../fleet/index.js";
import { CLIENT_HELP, GatewayClient, GatewayError, parseClientArgs, table } from "./client.js";

type Transfer = Static<typeof TransferView>;

export const MODELS_HELP = `models:
  flotilla models list                    every model, its replicas and nodes
  flotilla models pull NAME [--node N]    pull onto a node (the best one unless --node), with a progress bar
  flotilla transfers list                 model transfers, newest first
${CLIENT_HELP}
`;

const POLL_MS = 250;
const BAR = 30;

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.round(n / 1e3)} KB`;
}

/** One line for people: a bar where the terminal redraws it, a line per tenth otherwise. */
function progressLine(t: Transfer): string {
  const filled = Math.round((t.percent / 100) * BAR);
  const size = t.total_bytes > 0 ? `  ${bytes(t.completed_bytes)} / ${bytes(t.total_bytes)}` : "";
  return `${t.model} → ${t.node} [${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${t.percent.toFixed(1).padStart(5)}%${size}  ${t.stage ?? ""}`;
}

async function pull(client: GatewayClient, name: string, node: string | undefined, json: boolean): Promise<number> {
  let transfer = await client.request<Transfer>("POST", `/api/v1/models/${encodeURIComponent(name)}/download`, node ? { node } : {});
  const tty = process.stdout.isTTY && !json;
  let shownTenth = -1;
  let stop = false;
  const interrupt = () => {
    stop = true;
  };
  process.once("SIGINT", interrupt);
  try {
    for (;;) {
      if (!json) {
        const tenth = Math.floor(transfer.percent / 10);
        if (tty) process.stdout.write(`\r${progressLine(transfer)}\x1b[K`);
        else if (tenth !== shownTenth || transfer.status !== "running") process.stdout.write(`${progressLine(transfer)}\n`);
        shownTenth = tenth;
      }
      if (transfer.status !== "running") break;
      if (stop) {
        transfer = await client.request<Transfer>("DELETE", `/api/v1/transfers/${transfer.id}`);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      transfer = await client.request<Transfer>("GET", `/api/v1/transfers/${transfer.id}`);
    }
  } finally {
    process.off("SIGINT", interrupt);
  }
  if (json) process.stdout.write(`${JSON.stringify(transfer)}\n`);
  else process.stdout.write(`${tty ? "\n" : ""}${transfer.status === "completed" ? `pulled ${transfer.model} onto ${transfer.node}` : `${transfer.status}${transfer.error ? `: ${transfer.error}` : ""}`}\n`);
  return transfer.status === "completed" ? 0 : transfer.status === "cancelled" ? 130 : 1;
}

/** `flotilla models …` and `flotilla transfers …`: model management against a running gateway. */
export async function models(group: "models" | "transfers", argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseClientArgs<{ node: { type: "string" } }>>;
  try {
    parsed = parseClientArgs(argv, { node: { type: "string" } });
  } catch (err) {
    process.stderr.write(`flotilla ${group}: ${(err as Error).message}\n\n${MODELS_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [verb, name] = positionals;
  const client = GatewayClient.from(values, process.env);
  try {
    if (group === "models" && verb === "pull") {
      if (!name) {
        process.stderr.write(`flotilla models pull NAME: which model?\n\n${MODELS_HELP}`);
        return 2;
      }
      return await pull(client, name, values.node, Boolean(values.json));
    }
    if (group === "models" && verb === "list") {
      const { models: list } = await client.request<{ models: Array<{ name: string; replicas: number; nodes: string[]; total_size: string | null; status: string }> }>("GET", "/api/distributed/models");
      process.stdout.write(values.json ? `${JSON.stringify(list)}\n` : table([["MODEL", "REPLICAS", "SIZE", "STATUS", "NODES"], ...list.map((m) => [m.name, String(m.replicas), m.total_size ?? "", m.status, m.nodes.join(",")])]));
      return 0;
    }
    if (group === "transfers" && verb === "list") {
      const { transfers } = await client.request<{ transfers: Transfer[] }>("GET", "/api/v1/transfers");
      process.stdout.write(values.json ? `${JSON.stringify(transfers)}\n` : table([["ID", "MODEL", "NODE", "STATUS", "PROGRESS", "SOURCE"], ...transfers.map((t) => [t.id, t.model, t.node, t.status, `${t.percent}%`, t.source])]));
      return 0;
    }
    process.stderr.write(`flotilla ${group}: unknown command "${verb ?? ""}"\n\n${MODELS_HELP}`);
    return 2;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    process.stderr.write(`flotilla ${group}: ${err.message}\n`);
    return 1;
  }
}
