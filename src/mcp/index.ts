export { RelayHub, type RelayHubOptions } from "./hub.js";
export { registerMcpEndpointRoutes, registerMcpRelayRoutes, registerMcpToolsApiRoutes } from "./routes.js";
export { ToolCatalog } from "./catalog.js";
export { MCP_CONNECT_PATH, mcpRelayPath } from "./protocol.js";
export { registerMcpAdminRoutes } from "./admin-routes.js";
export { ToolAccess } from "./access.js";
export { joinToolName, splitToolName, type CatalogEntry } from "./catalog.js";
export { type ToolFilter } from "./endpoint.js";
