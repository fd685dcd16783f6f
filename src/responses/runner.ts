import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ERROR_CODES, FlotillaError, type ErrorCode } from "../kernel/index.js";
import type { CatalogEntry, ToolCatalog, ToolFilter } from "../mcp/index.js";
import { DONE, SseFrames } from "../proxy/index.js";
import type { FunctionTool, McpTool, ResponseRequest } from "./schema.js";
import { chatResponseFormat, chatToolChoice, functionTools, inputMessages, type ChatMessage, type ChatTool, type ChatToolCall, type OutputItem } from "./translate.js";

export interface RunnerDeps {
  app: FastifyInstance;
  catalog: ToolCatalog;
  maxSteps: number;
  timeLimitMs: number;
}

export interface RunContext {
  /** The caller's credentials, so each step runs as them (their key's limits, budget and records). */
  headers: Record<string, string>;
  requestId: string;
  caller: string;
  /** The MCP tools the caller may use. */
  filter: ToolFilter;
  signal: AbortSignal;
  /** The conversation a `previous_response_id` continues. */
  history: ChatMessage[];
  /** Each output item once done, for a stream. */
  onItem?(item: OutputItem): void;
  /** For a stream: a message's text as the model writes it, before its item is done. */
  onText?: { start(itemId: string): void; delta(itemId: string, text: string): void };
}

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface RunResult {
  status: "completed" | "incomplete" | "failed";
  output: OutputItem[];
  usage: Usage;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  /** The conversation to its end: what `previous_response_id` continues. */
  history: ChatMessage[];
}

interface ChatAnswer {
  choices: Array<{ message: { content: string | null; tool_calls?: ChatToolCall[] }; finish_reason: string }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

const id = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, "")}`;

const serverUrlRefused = () =>
  new FlotillaError("invalid_request", "an mcp tool with a server_url is not served: the gateway offers its own MCP tools (leave server_url out; server_label names a relay or server, or flotilla for all)", { param: "tools.server_url" });

/** Refuses, before anything runs, what a request cannot run with: its input, its text format, an MCP server named by URL. */
export function checkRequest(request: ResponseRequest): void {
  inputMessages(request.input);
  chatResponseFormat(request.text?.format);
  if ((request.tools ?? []).some((t) => t.type === "mcp" && t.server_url)) throw serverUrlRefused();
}

/** The gateway's MCP tools a request's `type: "mcp"` tools ask for: a label naming a relay or server takes its tools, `flotilla` or `*` all. */
async function mcpToolsFor(deps: RunnerDeps, tools: McpTool[], ctx: RunContext): Promise<CatalogEntry[]> {
  if (tools.length === 0) return [];
  if (tools.some((t) => t.server_url)) throw serverUrlRefused();
  const entries = (await deps.catalog.list({ caller: ctx.caller, requestId: ctx.requestId, signal: ctx.signal })).filter((e) => ctx.filter(e.name));
  return entries.filter((e) =>
    tools.some((t) => {
      const all = t.server_label === "flotilla" || t.server_label === "*";
      if (!all && e.namespace !== t.server_label) return false;
      const allowed = Array.isArray(t.allowed_tools) ? t.allowed_tools : (t.allowed_tools as { tool_names?: string[] } | null | undefined)?.tool_names;
      return !allowed || allowed.includes(e.tool.name) || allowed.includes(e.name);
    }),
  );
}

/**
 * Runs a Responses request on the fleet: each step is a chat completion
 * through the gateway's own route, as the caller. A call of an MCP tool is
 * made here and its result fed back, up to `maxSteps` steps and
 * `timeLimitMs`; a call of the client's own function ends the response with
 * a `function_call` item for the client to answer.
 */
export async function runResponse(deps: RunnerDeps, request: ResponseRequest, ctx: RunContext): Promise<RunResult> {
  const tools = request.tools ?? [];
  const mcp = await mcpToolsFor(deps, tools.filter((t): t is McpTool => t.type === "mcp"), ctx);
  const mcpByName = new Map(mcp.map((e) => [e.name, e]));
  const chatTools: ChatTool[] = [
    ...functionTools(tools.filter((t): t is FunctionTool => t.type === "function")),
    ...mcp.map((e): ChatTool => ({ type: "function", function: { name: e.name, description: e.tool.description ?? "", parameters: e.tool.inputSchema as Record<string, unknown> } })),
  ];
  const messages: ChatMessage[] = [...(request.instructions ? [{ role: "system" as const, content: request.instructions }] : []), ...ctx.history, ...inputMessages(request.input)];
  const output: OutputItem[] = [];
  const usage: Usage = { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };
  const push = (item: OutputItem) => {
    output.push(item);
    ctx.onItem?.(item);
  };
  const result = (status: RunResult["status"], extra: Partial<RunResult> = {}): RunResult => ({
    status,
    output,
    usage,
    error: null,
    incomplete_details: null,
    // The instructions are not carried over, as OpenAI's `previous_response_id` does not carry them.
    history: request.instructions ? messages.slice(1) : messages,
    ...extra,
  });
  if (mcp.length > 0) {
    for (const label of new Set(mcp.map((e) => e.namespace))) {
      push({ id: id("mcpl"), type: "mcp_list_tools", server_label: label, tools: mcp.filter((e) => e.namespace === label).map((e) => ({ name: e.tool.name, description: e.tool.description ?? null, input_schema: e.tool.inputSchema, annotations: null })) });
    }
  }
  const deadline = Date.now() + deps.timeLimitMs;
  for (let step = 0; step < deps.maxSteps; step++) {
    // A stop that came during a tool call ends the response here, before another model call.
    ctx.signal.throwIfAborted();
    if (Date.now() > deadline) return result("incomplete", { incomplete_details: { reason: "time_limit" } });
    const messageId = id("msg");
    let writing = false;
    const onDelta = ctx.onText
      ? (text: string) => {
          if (!writing) ctx.onText?.start(messageId);
          writing = true;
          ctx.onText?.delta(messageId, text);
        }
      : undefined;
    // Each step is a request of its own in the audit log (which keeps one row per id), so every step's tokens count.
    const stepId = step === 0 ? ctx.requestId : `${ctx.requestId}.${step}`;
    const answer = await chatStep(deps, request, messages, chatTools, { ...ctx, requestId: stepId }, deadline, onDelta);
    usage.input_tokens += answer.usage?.prompt_tokens ?? 0;
    usage.output_tokens += answer.usage?.completion_tokens ?? 0;
    usage.total_tokens = usage.input_tokens + usage.output_tokens;
    const choice = answer.choices[0];
    const calls = choice?.message.tool_calls ?? [];
    if (calls.length === 0) {
      const text = choice?.message.content ?? "";
      const truncated = choice?.finish_reason === "length";
      push({ id: messageId, type: "message", status: truncated ? "incomplete" : "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] });
      messages.push({ role: "assistant", content: text });
      return truncated ? result("incomplete", { incomplete_details: { reason: "max_output_tokens" } }) : result("completed");
    }
    // Text written before the calls is a message of its own, as the API answers it.
    if (choice.message.content) push({ id: messageId, type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: choice.message.content, annotations: [], logprobs: [] }] });
    messages.push({ role: "assistant", content: choice.message.content || null, tool_calls: calls });
    let clientCalls = 0;
    for (const call of calls) {
      const entry = mcpByName.get(call.function.name);
      if (!entry) {
        clientCalls++;
        push({ id: id("fc"), type: "function_call", status: "completed", call_id: call.id, name: call.function.name, arguments: call.function.arguments });
        continue;
      }
      let out: string | null = null;
      let error: string | null = null;
      try {
        const args = call.function.arguments ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
        const called = await deps.catalog.call(call.function.name, args, { caller: ctx.caller, requestId: ctx.requestId, signal: ctx.signal });
        const text = (called.content ?? []).map((c) => (c.type === "text" ? c.text : JSON.stringify(c))).join("\n");
        if (called.isError) error = text;
        else out = text;
      } catch (err) {
        error = (err as Error).message;
      }
      push({ id: id("mcp"), type: "mcp_call", status: error === null ? "completed" : "failed", server_label: entry.namespace, name: entry.tool.name, arguments: call.function.arguments, output: out, error });
      messages.push({ role: "tool", tool_call_id: call.id, content: out ?? `error: ${error}` });
    }
    // The client's own functions are the client's to run: the response ends here and the next request brings their outputs.
    if (clientCalls > 0) return result("completed");
  }
  return result("incomplete", { incomplete_details: { reason: "max_steps" } });
}

/**
 * One chat completion. With `onDelta` it is streamed, its text told as it
 * comes; the answer is gathered into the shape of a whole one either way.
 */
async function chatStep(
  deps: RunnerDeps,
  request: ResponseRequest,
  messages: ChatMessage[],
  tools: ChatTool[],
  ctx: RunContext,
  deadline: number,
  onDelta?: (text: string) => void,
): Promise<ChatAnswer> {
  const body: Record<string, unknown> = { model: request.model, messages, stream: onDelta !== undefined };
  if (onDelta) body.stream_options = { include_usage: true };
  if (tools.length > 0) body.tools = tools;
  if (request.tool_choice !== undefined && tools.length > 0) body.tool_choice = chatToolChoice(request.tool_choice);
  if (request.max_output_tokens) body.max_tokens = request.max_output_tokens;
  if (request.temperature !== undefined && request.temperature !== null) body.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) body.top_p = request.top_p;
  if (request.parallel_tool_calls !== undefined && request.parallel_tool_calls !== null && tools.length > 0) body.parallel_tool_calls = request.parallel_tool_calls;
  const format = chatResponseFormat(request.text?.format);
  if (format) body.response_format = format;
  const step = new AbortController();
  const stop = () => step.abort();
  ctx.signal.addEventListener("abort", stop, { once: true });
  const timer = setTimeout(stop, Math.max(0, deadline - Date.now()));
  try {
    const res = await deps.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { ...ctx.headers, "content-type": "application/json", "x-request-id": ctx.requestId },
      payload: JSON.stringify(body),
      signal: step.signal,
      payloadAsStream: true,
    });
    if (res.statusCode === 200 && onDelta) return await gather(res.stream(), onDelta);
    let text = "";
    for await (const chunk of res.stream()) text += String(chunk);
    const answer = JSON.parse(text) as ChatAnswer & { error?: { code?: string; message?: string } };
    if (res.statusCode !== 200) {
      const code = (answer.error?.code && answer.error.code in ERROR_CODES ? answer.error.code : "upstream_error") as ErrorCode;
      throw new FlotillaError(code, answer.error?.message ?? `the model answered ${res.statusCode}`, { status: res.statusCode });
    }
    return answer;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", stop);
  }
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> }; finish_reason?: string | null }>;
  usage?: ChatAnswer["usage"];
  error?: unknown;
}

/** A streamed chat completion read into one answer: its text told as it comes, tool calls joined by index. */
async function gather(stream: AsyncIterable<Buffer | string>, onDelta: (text: string) => void): Promise<ChatAnswer> {
  const frames = new SseFrames();
  let content = "";
  let finish = "stop";
  let usage: ChatAnswer["usage"];
  const calls: ChatToolCall[] = [];
  const take = (frame: unknown) => {
    if (frame === DONE) return;
    const chunk = frame as ChatChunk;
    if (chunk.error) throw new FlotillaError("upstream_error", `the model's stream failed: ${JSON.stringify(chunk.error)}`);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    if (choice.finish_reason) finish = choice.finish_reason;
    const text = choice.delta?.content;
    if (text) {
      content += text;
      onDelta(text);
    }
    for (const part of choice.delta?.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: part.id ?? "", type: "function", function: { name: "", arguments: "" } });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) call.function.arguments += part.function.arguments;
    }
  };
  for await (const chunk of stream) for (const frame of frames.push(Buffer.from(chunk))) take(frame);
  for (const frame of frames.end()) take(frame);
  const toolCalls = calls.filter(Boolean).map((c) => ({ ...c, id: c.id || id("call") }));
  return { choices: [{ message: { content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) }, finish_reason: finish }], usage };
}
