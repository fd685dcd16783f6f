import { execFile } from "node:child_process";
import { statfs } from "node:fs/promises";
import { cpus, freemem, homedir, loadavg, totalmem } from "node:os";
import type { SystemMetrics } from "../fleet/index.js";

const NVIDIA_QUERY = ["--query-gpu=name,memory.total,memory.used,utilization.gpu", "--format=csv,noheader,nounits"];
const MIB = 1024 * 1024;

/**
 * CPU and memory from the OS; the disk of the home directory (where Ollama
 * keeps models unless told otherwise); GPUs from nvidia-smi when the machine has it.
 */
export class SystemProbe {
  private nvidiaSmi = true;

  async read(): Promise<SystemMetrics> {
    const metrics: SystemMetrics = {
      cpu: { cores: cpus().length, load_1m: loadavg()[0] },
      memory: { total_bytes: totalmem(), free_bytes: freemem() },
    };
    const disk = await statfs(homedir()).catch(() => undefined);
    if (disk) metrics.disk = { total_bytes: disk.blocks * disk.bsize, free_bytes: disk.bavail * disk.bsize };
    if (this.nvidiaSmi) {
      const gpus = await this.gpus();
      if (gpus) metrics.gpus = gpus;
    }
    return metrics;
  }

  private gpus(): Promise<SystemMetrics["gpus"]> {
    return new Promise((resolve) => {
      execFile("nvidia-smi", NVIDIA_QUERY, { timeout: 2000 }, (err, stdout) => {
        if (err) {
          // No nvidia-smi (or no driver): stop asking.
          if ((err as NodeJS.ErrnoException).code === "ENOENT" || typeof (err as { code?: unknown }).code === "number") this.nvidiaSmi = false;
          return resolve(undefined);
        }
        resolve(parseNvidiaSmi(stdout));
      });
    });
  }
}

export function parseNvidiaSmi(csv: string): NonNullable<SystemMetrics["gpus"]> {
  return csv
    .split("\n")
    .map((line) => line.split(",").map((s) => s.trim()))
    .filter((cols) => cols.length >= 4 && cols[0])
    .map(([name, total, used, util]) => ({
      name,
      memory_total_bytes: Number(total) * MIB || 0,
      memory_used_bytes: Number(used) * MIB || 0,
      utilization_percent: Number(util) || 0,
    }));
}
