export { FleetService } from "./service.js";
export { Fleet } from "./fleet.js";
export { ServerNode, type ServerSpec, type ModelEntry, type LoadedEntry } from "./node.js";
export { Router, type Choice, type RouteRequest } from "./router.js";
export { Admission, type Slot, type AcquireRequest } from "./admission.js";
export type { Priority } from "./fair-queue.js";
export { modelKey, baseModelKey } from "./model-name.js";
export { registerFleetRoutes, serverView } from "./routes.js";
