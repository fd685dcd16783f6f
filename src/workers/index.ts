export { WorkerHub, type WorkerHubOptions } from "./hub.js";
export { registerWorkerRoutes, WORKER_CONNECT_PATH } from "./routes.js";
export { runWorkerAgent, type WorkerAgentOptions } from "./agent.js";
