import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { BUILD } from "./build-info.js";

/** The OpenAPI document comes from the same route schemas that validate requests. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Flotilla",
        version: BUILD.version,
        description: "One OpenAI- and Ollama-compatible gateway in front of a fleet of inference servers.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          ollamaApiKey: { type: "apiKey", in: "header", name: "X-Ollama-Api-Key" },
        },
      },
      security: [{ bearer: [] }, { ollamaApiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api/client" });
  app.get("/api/client/openapi.json", { schema: { hide: true }, config: { auth: "public" } }, async function openApiDocument() {
    return app.swagger();
  });
}
