import type { FastifyReply } from "fastify";
import type { Slot } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import { recordCall, type CallContext, type ProxyDeps } from "./context.js";
import { stopWhenGone, translate, translateAnswer, withServer, type InferenceCall } from "./forward.js";
import { clientApi, type Usage } from "./translate/index.js";
import { callUpstream, upstreamStatusError } from "./upstream.js";

interface OllamaEmbedBody {
  model: string;
  embeddings: unknown[];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

interface OpenAIEmbedBody {
  object: "list";
  model: string;
  data: Array<{ object: string; index: number; embedding: unknown }>;
  usage?: { prompt_tokens: number; total_tokens: number };
}

/**
 * A large embeddings batch is cut into parts, one per server that has the
 * model, and the answers are joined in input order. Returns false when the
 * request is not worth splitting (the caller forwards it whole).
 */
export async function splitEmbeddings(deps: ProxyDeps, ctx: CallContext, call: InferenceCall, reply: FastifyReply): Promise<boolean> {
  if (call.path !== "/api/embed" && call.path !== "/v1/embeddings") return false;
  const input = call.body.input;
  const min = deps.config.routing.embed_split_min;
  if (ctx.pin || !Array.isArray(input) || input.length < min || typeof input[0] !== "string") return false;
  const found = deps.fleet.router.candidates({ model: call.model });
  if (!found.ok) return false;
  const parts = Math.min(found.choices.length, Math.floor(input.length / Math.ceil(min / 2)));
  if (parts < 2) return false;

  const size = Math.ceil(input.length / parts);
  // As for a whole request: a client that goes away, or a stop by id (a cancelled task), ends every part.
  const { abort, release } = stopWhenGone(deps, ctx, reply);
  const tried = new Set<string>();
  const servers = new Set<string>();
  let bodies: unknown[];
  try {
    bodies = await Promise.all(
      found.choices.slice(0, parts).map((choice, i) => {
        const part = { ...call, raw: undefined, body: { ...call.body, input: input.slice(i * size, (i + 1) * size) } };
        return embedPart(deps, ctx, part, choice.node.name, abort.signal, tried, servers);
      }),
    );
  } catch (err) {
    abort.abort();
    const failure = err instanceof FlotillaError ? err : new FlotillaError("internal_error", "internal error", { cause: err });
    recordCall(deps, ctx, call.path, call.model, { status: failure.status, server: "", error: failure.message }, tried.size);
    throw failure;
  } finally {
    release();
  }
  const joined = clientApi(call.path) === "ollama" ? joinOllama(bodies as OllamaEmbedBody[]) : joinOpenAI(bodies as OpenAIEmbedBody[]);
  const server = [...servers].join(",");
  void reply.header("x-flotilla-server", server).send(joined.body);
  recordCall(deps, ctx, call.path, call.model, { status: 200, server, usage: joined.usage }, tried.size);
  return true;
}

/** One part goes to its own server first, then to any other that has the model. */
async function embedPart(
  deps: ProxyDeps,
  ctx: CallContext,
  call: InferenceCall,
  preferred: string,
  signal: AbortSignal,
  tried: Set<string>,
  servers: Set<string>,
): Promise<unknown> {
  const run = (slot: Slot) => embedOn(deps, ctx, call, slot, signal).then((body) => (servers.add(slot.choice.node.name), body));
  try {
    return await withServer(deps, { ...ctx, pin: preferred }, call.model, signal, new Set(), run);
  } catch (err) {
    if (!(err instanceof FlotillaError) || !err.retryable) throw err;
    tried.add(preferred);
    return withServer(deps, ctx, call.model, signal, new Set([preferred]), run);
  }
}

async function embedOn(deps: ProxyDeps, ctx: CallContext, call: InferenceCall, slot: Slot, signal: AbortSignal): Promise<unknown> {
  const { node, upstreamModel } = slot.choice;
  const body = { ...call.body, model: upstreamModel };
  const passthrough = node.kind === clientApi(call.path);
  const translation = passthrough ? undefined : translate(call.path, body, ctx, slot.choice, call.model);
  const res = await callUpstream(node, {
    method: "POST",
    path: translation?.path ?? call.path,
    body: JSON.stringify(translation?.body ?? body),
    requestId: ctx.requestId,
    signal,
    timeoutMs: deps.config.routing.first_byte_timeout_ms,
  });
  if (res.statusCode >= 400) throw await upstreamStatusError(node, res);
  const parsed: unknown = await res.body.json();
  return translation ? translateAnswer(translation, parsed) : parsed;
}

function joinOllama(bodies: OllamaEmbedBody[]): { body: OllamaEmbedBody; usage: Usage } {
  const body: OllamaEmbedBody = {
    model: bodies[0].model,
    embeddings: bodies.flatMap((b) => b.embeddings),
    total_duration: Math.max(...bodies.map((b) => b.total_duration ?? 0)),
    load_duration: Math.max(...bodies.map((b) => b.load_duration ?? 0)),
    prompt_eval_count: bodies.reduce((n, b) => n + (b.prompt_eval_count ?? 0), 0),
  };
  return { body, usage: { prompt_tokens: body.prompt_eval_count ?? 0, completion_tokens: 0 } };
}

function joinOpenAI(bodies: OpenAIEmbedBody[]): { body: OpenAIEmbedBody; usage: Usage } {
  const data = bodies.flatMap((b) => b.data).map((d, index) => ({ ...d, index }));
  const prompt = bodies.reduce((n, b) => n + (b.usage?.prompt_tokens ?? 0), 0);
  const body: OpenAIEmbedBody = {
    object: "list",
    model: bodies[0].model,
    data,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
  return { body, usage: { prompt_tokens: prompt, completion_tokens: 0 } };
}
