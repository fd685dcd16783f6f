import type { FastifyReply } from "fastify";
import { modelKey, type Choice, type Slot } from "../fleet/index.js";
import { batchTurn, FlotillaError } from "../kernel/index.js";
import { recordCall, type CallContext, type ProxyDeps, type RecordedOutcome, type RouteTrace } from "./context.js";
import {
  BrokenAnswerError,
  clientApi,
  frameOf,
  serverApiNeeded,
  translateRequest,
  TranslationError,
  usageFromPassthrough,
  wantsStream,
  type Api,
  type ClientPath,
  type Translation,
  type Usage,
} from "./translate/index.js";
import { callUpstream, upstreamFailure, upstreamStatusError, type UpstreamResponse } from "./upstream.js";
import { streamError, waitForDrain } from "./wire.js";

export interface InferenceCall {
  path: ClientPath;
  body: Record<string, unknown>;
  /** The body's bytes as the client sent them, forwarded as is when nothing needs changing. */
  raw: Buffer | undefined;
  model: string;
  /** Sees the answer on its way to the client and may change it (a stored conversation's turn); none on plain calls. */
  tap?: AnswerTap;
}

/**
 * Sees an answer in the client's API as it goes out: `push` gets each piece
 * and returns what to send instead; `finish`, once the answer is whole,
 * returns what to send last. Not called for an answer that broke.
 */
export interface AnswerTap {
  push(piece: Buffer | string): string;
  finish(): Promise<string>;
}

/**
 * Runs one inference request: pick a server, send, and on 404, connect
 * failure, 5xx or first-byte timeout before anything reached the client,
 * try the next server (at most max_attempts). Then stream the answer back,
 * translated when the server speaks the other API.
 */
export async function forwardInference(deps: ProxyDeps, ctx: CallContext, call: InferenceCall, reply: FastifyReply): Promise<void> {
  const { abort, release } = stopWhenGone(deps, ctx, reply);
  const tried = new Set<string>();
  const trace: RouteTrace = { queueMs: 0, retryReasons: [] };
  let outcome: RecordedOutcome;
  try {
    const kind = serverApiNeeded(call.path, call.body);
    if (kind) refuseWhenNoneSpeaks(deps, call.model, kind);
    outcome = await withServer(deps, ctx, call.model, abort.signal, tried, (slot) => attemptOn(deps, ctx, call, slot, reply, abort.signal), kind, trace);
    deps.fleet.router.remember(ctx.session, outcome.server);
  } catch (err) {
    const failure = err instanceof FlotillaError ? err : new FlotillaError("internal_error", "internal error", { cause: err });
    recordCall(deps, ctx, call.path, call.model, { status: failure.status, server: "", error: failure.message }, tried.size, trace);
    throw failure;
  } finally {
    release();
  }
  recordCall(deps, ctx, call.path, call.model, outcome, tried.size, trace);
}

/**
 * An abort for the work of one request: it fires when the client goes away
 * before the answer is written, or when the request is stopped by its id (an
 * in-process request, a queued task's, has no socket to close). `release` once done.
 */
export function stopWhenGone(deps: ProxyDeps, ctx: CallContext, reply: FastifyReply): { abort: AbortController; release(): void } {
  const res = reply.raw;
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once("close", onClose);
  const unstoppable = deps.fleet.requests.stoppable(ctx.requestId, () => abort.abort());
  return {
    abort,
    release() {
      res.off("close", onClose);
      unstoppable();
    },
  };
}

/**
 * Runs `attempt` on the best server for `model`; a retryable failure moves on
 * to the next server not yet in `tried`, up to max_attempts servers.
 */
export async function withServer<T>(
  deps: ProxyDeps,
  ctx: CallContext,
  model: string,
  signal: AbortSignal,
  tried: Set<string>,
  attempt: (slot: Slot) => Promise<T>,
  kind?: Api,
  trace?: RouteTrace,
): Promise<T> {
  let lastError: FlotillaError | undefined;
  for (let n = 0; n < deps.config.routing.max_attempts; n++) {
    let slot: Slot;
    const asked = performance.now();
    try {
      slot = await acquire(deps, ctx, model, signal, tried, n === 0, kind);
    } catch (err) {
      if (trace) trace.queueMs += performance.now() - asked;
      throw lastError ?? err;
    }
    if (trace) traceRoute(deps, ctx, slot, asked, trace);
    tried.add(slot.choice.node.name);
    deps.fleet.requests.add({ id: ctx.requestId, model, node: slot.choice.node.name, priority: ctx.priority, keyId: ctx.keyId, startedAt: Date.now() });
    try {
      return await attempt(slot);
    } catch (err) {
      const failure = err instanceof FlotillaError ? err : upstreamFailure(slot.choice.node, err);
      if (!failure.retryable || signal.aborted) throw failure;
      lastError = failure;
      trace?.retryReasons.push(failure.code);
      deps.metrics.retries.inc({ reason: failure.code });
      if (failure.code === "upstream_unreachable") void deps.fleet.poller.poll(slot.choice.node);
    } finally {
      deps.fleet.requests.remove(ctx.requestId);
      slot.release();
    }
  }
  throw lastError ?? new FlotillaError("no_server_available", `no server answered for ${model}`);
}

/** What the audit row says of this attempt's routing: the slot's wait, whether the model was loaded, and which rule chose. */
function traceRoute(deps: ProxyDeps, ctx: CallContext, slot: Slot, asked: number, trace: RouteTrace): void {
  const { node, upstreamModel, fallbackFrom } = slot.choice;
  trace.queueMs += performance.now() - asked;
  trace.loaded = node.loaded.has(modelKey(upstreamModel));
  if (ctx.pin !== undefined) trace.route = "pin";
  else if (fallbackFrom !== undefined) trace.route = "fallback";
  else trace.route = ctx.session !== undefined && deps.fleet.router.stickyServer(ctx.session) === node.name ? "affinity" : "best";
}

/**
 * A slot on the best server. A model no server is known to have may have
 * arrived since the last poll (pulled a moment ago): the first attempt asks
 * the servers again before answering 404.
 */
async function acquire(deps: ProxyDeps, ctx: CallContext, model: string, signal: AbortSignal, tried: Set<string>, mayRefresh: boolean, kind?: Api): Promise<Slot> {
  const request = { model, pin: ctx.pin, session: ctx.session, exclude: tried, keyId: ctx.caller, priority: ctx.priority, signal, kind };
  try {
    return await deps.fleet.admission.acquire(request);
  } catch (err) {
    if (!mayRefresh || !(err instanceof FlotillaError) || err.code !== "model_not_found") throw err;
    await deps.fleet.poller.pollOnline();
    return deps.fleet.admission.acquire(request);
  }
}

/**
 * A request only servers of one API can take, for a model only servers of
 * the other have, is the client's to change: a 400 naming those servers.
 */
function refuseWhenNoneSpeaks(deps: ProxyDeps, model: string, kind: Api): void {
  const key = modelKey(model);
  const holders = deps.fleet.fleet.all().filter((n) => n.hasModel(key));
  if (holders.length === 0 || holders.some((n) => n.kind === kind)) return;
  throw new FlotillaError(
    "invalid_request",
    `embedding token ids needs an OpenAI-compatible server, and every server with "${model}" (${holders.map((n) => n.name).join(", ")}) speaks Ollama's API, which embeds text only: send the input as strings`,
    { param: "input" },
  );
}

/** The model an answer names: as the client asked for it; a fallback's answer names the model that gave it. */
function answerModel(choice: Choice, asked: string): string {
  return choice.fallbackFrom ? choice.upstreamModel : asked;
}

/** Input the other API cannot carry is the client's mistake: a 400, never a retry. */
export function translate(path: ClientPath, body: Record<string, unknown>, ctx: CallContext, choice: Choice, asked: string): Translation {
  try {
    const created = Math.floor(Date.now() / 1000);
    return translateRequest(path, body, { requestId: ctx.requestId, server: choice.node.name, created, answerModel: answerModel(choice, asked) });
  } catch (err) {
    if (err instanceof TranslationError) throw new FlotillaError("invalid_request", err.message, { param: err.param });
    throw err;
  }
}

/** A whole answer in the client's API; a body that is no answer (garbage, cut short, an error) is a 502 naming the server. */
export function translateAnswer(translation: Translation, body: unknown): unknown {
  try {
    return translation.response.json(body);
  } catch (err) {
    if (err instanceof BrokenAnswerError) throw new FlotillaError("upstream_error", err.message, { cause: err });
    throw err;
  }
}

/** Throws a retryable FlotillaError while nothing has been written to the client. */
async function attemptOn(
  deps: ProxyDeps,
  ctx: CallContext,
  call: InferenceCall,
  slot: Slot,
  reply: FastifyReply,
  signal: AbortSignal,
): Promise<RecordedOutcome> {
  // A queued task's call to the server is a step of batch work: it waits its turn of the event loop.
  if (ctx.priority === "batch") await batchTurn();
  const { node, upstreamModel, fallbackFrom } = slot.choice;
  const idleMs = deps.config.limits.stream_idle_timeout_ms;
  const passthrough = node.kind === clientApi(call.path);
  const body = upstreamModel === call.model ? call.body : { ...call.body, model: upstreamModel };
  let translation: Translation | undefined;
  let payload: string | Buffer;
  let path: string = call.path;
  if (passthrough) {
    payload = body === call.body && call.raw ? call.raw : JSON.stringify(body);
  } else {
    translation = translate(call.path, body, ctx, slot.choice, call.model);
    payload = JSON.stringify(translation.body);
    path = translation.path;
  }
  const upstream = await callUpstream(node, {
    method: "POST",
    path,
    body: payload,
    requestId: ctx.requestId,
    signal,
    timeoutMs: deps.config.routing.first_byte_timeout_ms,
    idleTimeoutMs: idleMs,
  });
  if (upstream.statusCode >= 400) throw await upstreamStatusError(node, upstream);

  const headers: Record<string, string> = { "x-request-id": ctx.requestId, "x-flotilla-server": node.name };
  if (fallbackFrom) headers["x-flotilla-fallback-model"] = upstreamModel;
  const streamed = wantsStream(call.path, call.body);
  const sent = passthrough
    ? await relay(reply, upstream, headers, streamed, idleMs, call.tap)
    : await relayTranslated(reply, upstream, headers, streamed, translation as Translation, idleMs, call.tap);
  const usage = passthrough ? usageFromPassthrough(clientApi(call.path), call.path, sent.text(), streamed) : sent.usage;
  return {
    status: signal.aborted ? CLIENT_CLOSED : sent.error ? 502 : upstream.statusCode,
    server: node.name,
    ttftMs: sent.firstByteAt === undefined ? undefined : sent.firstByteAt - ctx.startedAt,
    usage,
    error: sent.error,
  };
}

export interface Sent {
  firstByteAt?: number;
  usage?: Usage;
  error?: string;
  /** What usage is read from: the whole body, or a stream's tail. */
  text(): string;
}

const TAIL_CHUNKS = 4;
/** nginx's status for a client that went away; recorded, never sent. */
const CLIENT_CLOSED = 499;

/** Same API on both sides: bytes go through untouched; only a stream's tail is kept, for usage. */
export async function relay(
  reply: FastifyReply,
  upstream: UpstreamResponse,
  headers: Record<string, string>,
  streamed: boolean,
  idleMs: number,
  tap?: AnswerTap,
): Promise<Sent> {
  const res = reply.raw;
  const type = upstream.headers["content-type"];
  if (type) headers["content-type"] = String(type);
  const length = upstream.headers["content-length"];
  if (length !== undefined && !streamed && !tap) headers["content-length"] = String(length);
  reply.hijack();
  res.writeHead(upstream.statusCode, headers);
  const kept: Buffer[] = [];
  const sent: Sent = { text: () => Buffer.concat(kept).toString("utf8") };
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      sent.firstByteAt ??= performance.now();
      kept.push(chunk);
      if (streamed && kept.length > TAIL_CHUNKS) kept.shift();
      if (!res.write(tap ? tap.push(chunk) : chunk)) await waitForDrain(res, idleMs);
    }
    if (tap) res.write(await tap.finish());
  } catch (err) {
    sent.error = midStreamFailure(res, headers["content-type"], err);
    return sent;
  }
  res.end();
  return sent;
}

async function relayTranslated(
  reply: FastifyReply,
  upstream: UpstreamResponse,
  headers: Record<string, string>,
  streamed: boolean,
  translation: Translation,
  idleMs: number,
  tap?: AnswerTap,
): Promise<Sent> {
  const res = reply.raw;
  if (!streamed) {
    const text = await upstream.body.text();
    const firstByteAt = performance.now();
    const translated = translateAnswer(translation, frameOf(text));
    const out = tap ? tap.push(JSON.stringify(translated)) + (await tap.finish()) : JSON.stringify(translated);
    headers["content-type"] = "application/json; charset=utf-8";
    headers["content-length"] = String(Buffer.byteLength(out));
    reply.hijack();
    res.writeHead(upstream.statusCode, headers);
    res.end(out);
    const usage = (translated as { usage?: Usage }).usage ?? ollamaUsage(translated);
    return { firstByteAt, usage, text: () => "" };
  }
  const translator = translation.response.stream();
  headers["content-type"] = translation.response.streamContentType;
  reply.hijack();
  res.writeHead(upstream.statusCode, headers);
  const sent: Sent = { text: () => "" };
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      sent.firstByteAt ??= performance.now();
      const pushed = translator.push(chunk);
      const out = tap && pushed ? tap.push(pushed) : pushed;
      if (out && !res.write(out)) await waitForDrain(res, idleMs);
      // The client's stream ended with an error line: the rest of a broken answer is not read.
      if (translator.error !== undefined) break;
    }
    const last = translator.end();
    sent.error = translator.error;
    res.end(tap && sent.error === undefined ? tap.push(last) + (await tap.finish()) : last);
  } catch (err) {
    sent.error = midStreamFailure(res, headers["content-type"], err);
  }
  sent.usage = translator.usage;
  return sent;
}

/** Once bytes reached the client no retry is possible: end the stream with an error it can read. */
function midStreamFailure(res: FastifyReply["raw"], contentType: string | undefined, err: unknown): string {
  const message = `the server stopped mid-answer: ${(err as Error).message ?? String(err)}`;
  if (!res.destroyed) res.end(streamError(contentType, message));
  return message;
}

function ollamaUsage(body: unknown): Usage | undefined {
  const b = body as { prompt_eval_count?: number; eval_count?: number };
  if (typeof b?.prompt_eval_count !== "number" && typeof b?.eval_count !== "number") return undefined;
  return { prompt_tokens: b.prompt_eval_count ?? 0, completion_tokens: b.eval_count ?? 0 };
}
