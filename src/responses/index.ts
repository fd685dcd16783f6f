export { registerResponsesRoutes } from "./routes.js";
