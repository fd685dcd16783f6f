import { request } from "node:http";

/** A container as Docker's `GET /containers/json` lists it (the fields read here). */
export interface DockerContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
  Labels?: Record<string, string> | null;
}

const TIMEOUT_MS = 5_000;
const MAX_BYTES = 16 * 1024 * 1024;

/** Why a Docker host setting cannot be used, or where to connect. */
function target(dockerHost: string): { socketPath: string } | { host: string; port: number } {
  if (dockerHost.startsWith("unix://")) return { socketPath: dockerHost.slice("unix://".length) };
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 2375) };
}

/**
 * The containers (running or not) carrying `label`, from the Docker Engine API at
 * `dockerHost` (`unix:///var/run/docker.sock` or `tcp://host:port`, the operator's
 * setting). Throws when Docker cannot be reached or answers with an error.
 */
export function listContainers(dockerHost: string, label: string): Promise<DockerContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  return new Promise((resolve, reject) => {
    const req = request({ ...target(dockerHost), method: "GET", path: `/containers/json?all=1&filters=${filters}`, headers: { host: "docker", accept: "application/json" }, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) req.destroy(new Error(`the container list is larger than ${MAX_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          const body = JSON.parse(text) as unknown;
          if (res.statusCode !== 200) return reject(new Error(`Docker answered ${res.statusCode}: ${(body as { message?: string } | null)?.message ?? text.slice(0, 200)}`));
          if (!Array.isArray(body)) return reject(new Error("Docker's container list is not a list"));
          resolve(body as DockerContainer[]);
        } catch {
          reject(new Error(`Docker answered ${res.statusCode} with a body that is not JSON`));
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`Docker did not answer in ${TIMEOUT_MS / 1000} s`)));
    req.on("error", reject);
    req.end();
  });
}

/** A container's name as `docker ps` shows it (without the leading slash), or its short id. */
export function containerName(container: DockerContainer): string {
  return container.Names?.[0]?.replace(/^\//, "") || container.Id.slice(0, 12);
}
