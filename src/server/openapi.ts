import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { BUILD, type AuthLevel } from "../kernel/index.js";

const KEY_OR_SESSION: Array<Record<string, string[]>> = [{ bearer: [] }, { ollamaApiKey: [] }, { session: [] }];

interface ObjectSchema {
  properties?: Record<string, { default?: unknown }>;
  required?: string[];
}

/** A query parameter with a default may be left out: the document must not call it required (the validator fills it in). */
function optionalDefaults(query: ObjectSchema | undefined): ObjectSchema | undefined {
  if (!query?.required || !query.properties) return query;
  const required = query.required.filter((name) => query.properties?.[name]?.default === undefined);
  return required.length === query.required.length ? query : { ...query, required };
}

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
          session: { type: "apiKey", in: "cookie", name: "flotilla_session" },
        },
      },
      security: KEY_OR_SESSION,
    },
    // Each operation says who may call it: the security it takes, and Flotilla's own level (x-flotilla-auth).
    transform({ schema, url, route }) {
      const config = route.config as { auth?: AuthLevel; guests?: false } | undefined;
      const auth = config?.auth ?? "public";
      const querystring = optionalDefaults((schema as { querystring?: ObjectSchema } | undefined)?.querystring);
      return { schema: { ...schema, ...(querystring ? { querystring } : {}), security: auth === "public" ? [] : KEY_OR_SESSION, "x-flotilla-auth": auth, ...(config?.guests === false ? { "x-flotilla-guests": false } : {}) } as typeof schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api/client" });
  app.get("/api/client/openapi.json", { schema: { hide: true }, config: { auth: "public" } }, async function openApiDocument() {
    return app.swagger();
  });
}
