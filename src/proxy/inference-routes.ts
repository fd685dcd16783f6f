import type { TSchema } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PreparedChat, ProxyDeps } from "./context.js";
import { ownerOf } from "../kernel/index.js";
import { forwardInference } from "./forward.js";
import { modelRefused } from "./aggregate-routes.js";
import { callContext } from "./request-context.js";
import {
  OllamaChatRequest,
  OllamaEmbedRequest,
  OllamaEmbeddingsRequest,
  OllamaGenerateRequest,
  OpenAIChatRequest,
  OpenAICompletionRequest,
  OpenAIEmbeddingRequest,
} from "./schemas.js";
import { splitEmbeddings } from "./embed-split.js";
import type { ClientPath } from "./translate/index.js";

interface InferenceRoute {
  path: ClientPath;
  body: TSchema;
  summary: string;
  tag: "ollama" | "openai";
}

const ROUTES: InferenceRoute[] = [
  { path: "/api/chat", body: OllamaChatRequest, summary: "Chat (Ollama)", tag: "ollama" },
  { path: "/api/generate", body: OllamaGenerateRequest, summary: "Generate (Ollama)", tag: "ollama" },
  { path: "/api/embed", body: OllamaEmbedRequest, summary: "Embed (Ollama)", tag: "ollama" },
  { path: "/api/embeddings", body: OllamaEmbeddingsRequest, summary: "Embeddings, legacy (Ollama)", tag: "ollama" },
  { path: "/v1/chat/completions", body: OpenAIChatRequest, summary: "Chat completions (OpenAI)", tag: "openai" },
  { path: "/v1/completions", body: OpenAICompletionRequest, summary: "Completions (OpenAI)", tag: "openai" },
  { path: "/v1/embeddings", body: OpenAIEmbeddingRequest, summary: "Embeddings (OpenAI)", tag: "openai" },
];

/** The read endpoints: routed to the best server, retried elsewhere before the first byte. */
export function registerInferenceRoutes(app: FastifyInstance, deps: ProxyDeps): void {
  for (const route of ROUTES) {
    const urls = route.tag === "openai" ? [route.path, `/api${route.path}`] : [route.path];
    for (const url of urls) {
      app.post(
        url,
        {
          schema: { body: route.body, summary: route.summary, tags: [route.tag], hide: url !== route.path },
          config: { auth: "inference", body: "inference" },
        },
        async function proxyInference(req, reply) {
          const body = req.body as Record<string, unknown>;
          const model = String(body.model);
          refuseHidden(deps, req, model);
          const extended = route.path === "/v1/chat/completions" ? deps.chat?.prepare(req, body) : undefined;
          if (extended) return forwardChat(deps, await extended, req, reply);
          const ctx = callContext(req, reply, body);
          if (deps.beforeRoute) await deps.beforeRoute(ctx, route.path, model);
          // Inlined images change the body: the client's own bytes can no longer be forwarded as they came.
          const inlining = route.path === "/v1/chat/completions" && inlineImages(deps, req, body);
          const inlined = inlining !== false && (await inlining);
          const call = { path: route.path, body, raw: inlined ? undefined : req.rawBody, model };
          if (await splitEmbeddings(deps, ctx, call, reply)) return reply;
          await forwardInference(deps, ctx, call, reply);
          return reply;
        },
      );
    }
  }
}

/** A model an admin turned off is refused to callers who are not admins; with nothing off, one size check. */
function refuseHidden(deps: ProxyDeps, req: FastifyRequest, model: string): void {
  if (deps.fleet.switches.hides(model) && req.principal?.role !== "admin") throw modelRefused(model);
}

/** A chat completion made by the gateway (the chat extension's, a regenerate's): its own body (never the client's bytes), tap and affinity. */
export async function forwardChat(deps: ProxyDeps, prepared: PreparedChat, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const model = String(prepared.body.model);
  refuseHidden(deps, req, model);
  await inlineImages(deps, req, prepared.body);
  const ctx = callContext(req, reply, prepared.body);
  if (prepared.session) ctx.session = prepared.session;
  if (deps.beforeRoute) await deps.beforeRoute(ctx, "/v1/chat/completions", model);
  const call = { path: "/v1/chat/completions" as const, body: prepared.body, raw: undefined, model, tap: prepared.tap };
  await forwardInference(deps, ctx, call, reply);
  return reply;
}

/** A chat request's `jan_*` and linked images made readable upstream (media/); true when the body changed. */
function inlineImages(deps: ProxyDeps, req: FastifyRequest, body: Record<string, unknown>): Promise<boolean> | false {
  return deps.inlineImages?.(body, ownerOf(req.principal) ?? "anonymous") ?? false;
}
