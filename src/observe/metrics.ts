import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** What the gauges read at each scrape. */
export interface MetricSources {
  /** [server, up (0/1), requests in flight] */
  serverUp(): Array<[string, number, number]>;
  queued(): number;
  queueDepths(): Record<string, number>;
  /** [server, model] for each model loaded */
  loadedModels(): Array<[string, string]>;
}

/** The gateway's Prometheus metrics; one instance per process. */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "flotilla_requests_total",
    help: "Proxied inference requests by surface, path, server and status",
    labelNames: ["surface", "path", "server", "status"] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: "flotilla_request_duration_seconds",
    help: "Time from request to the end of the answer, by path and model",
    labelNames: ["path", "model"] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly ttft = new Histogram({
    name: "flotilla_time_to_first_byte_seconds",
    help: "Time from request to the first byte of the upstream answer, by server and model",
    labelNames: ["server", "model"] as const,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: "flotilla_retries_total",
    help: "Requests retried on another server",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: "flotilla_queue_wait_seconds",
    help: "Time a request waited for a free slot on a server, by model",
    labelNames: ["model"] as const,
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 30, 60],
    registers: [this.registry],
  });

  readonly routed = new Counter({
    name: "flotilla_routed_total",
    help: "Requests sent to a server, by the rule that chose it (best, pin, affinity, fallback) and whether it had the model loaded (false: a cold load)",
    labelNames: ["route", "loaded"] as const,
    registers: [this.registry],
  });

  readonly tasks = new Counter({
    name: "flotilla_tasks_ended_total",
    help: "Queued tasks that ended on this replica, by queue and state (completed, failed, cancelled, …)",
    labelNames: ["queue", "state"] as const,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: "flotilla_tokens_total",
    help: "Tokens in and out by model",
    labelNames: ["model", "direction"] as const,
    registers: [this.registry],
  });

  /** Every proxied request counted so far, whatever its outcome. */
  async requestsProcessed(): Promise<number> {
    return (await this.requests.get()).values.reduce((sum, v) => sum + v.value, 0);
  }

  constructor(collect: MetricSources) {
    collectDefaultMetrics({ register: this.registry, prefix: "flotilla_process_" });
    new Gauge({
      name: "flotilla_server_up",
      help: "1 when the server answers its polls",
      labelNames: ["server"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, up] of collect.serverUp()) this.set({ server: name }, up);
      },
    });
    new Gauge({
      name: "flotilla_server_in_flight",
      help: "Requests in flight per server",
      labelNames: ["server"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [name, , inFlight] of collect.serverUp()) this.set({ server: name }, inFlight);
      },
    });
    new Gauge({
      name: "flotilla_queued_requests",
      help: "Requests waiting for a free server",
      registers: [this.registry],
      collect() {
        this.set(collect.queued());
      },
    });
    new Gauge({
      name: "flotilla_queue_depth",
      help: "Requests waiting for a free server, by model (or pinned server|model)",
      labelNames: ["model"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [model, depth] of Object.entries(collect.queueDepths())) this.set({ model }, depth);
      },
    });
    new Gauge({
      name: "flotilla_model_loaded",
      help: "1 for each model a server has loaded (in memory, ready to answer)",
      labelNames: ["server", "model"] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [server, model] of collect.loadedModels()) this.set({ server, model }, 1);
      },
    });
  }
}
