import type { FastifyInstance } from "fastify";
import type { ProxyDeps } from "../proxy/index.js";
import type { Store } from "../store/index.js";
import { registerItemRoutes } from "./item-routes.js";
import { registerProjectRoutes } from "./project-routes.js";
import { registerRegenerateRoute } from "./regenerate-route.js";
import { registerConversationCrud } from "./routes.js";
import { registerShareRoutes } from "./share-routes.js";

export { ChatHistory, chatItemBodies, chatMessages, type ChatMessage, type ChatToolCall, type ForkAnswer, type LoadedHistory, type NewChatItem } from "./chat-history.js";
export { itemView } from "./items.js";
export { mainBranchView } from "./branches.js";
export { ConversationChats } from "./chat-turn.js";
export type { BranchView, ItemView } from "./schema.js";
export { ModelCatalogs, providerModelId, type ModelCatalogOptions } from "./model-catalog.js";
export { registerModelCatalogRoutes } from "./model-catalog-routes.js";

/** Seed 002's conversations, items, shares and projects (Jan Server's API on OpenAI's Conversations API); a regenerate runs on the fleet through `proxy`. */
export function registerConversationRoutes(app: FastifyInstance, store: Store, proxy: ProxyDeps): void {
  registerConversationCrud(app, store);
  registerItemRoutes(app, store);
  registerRegenerateRoute(app, store, proxy);
  registerShareRoutes(app, store);
  registerProjectRoutes(app, store);
}
