import type { ServerResponse } from "node:http";
import type { OutputItem } from "./translate.js";

/** One event of a Responses stream, before it is given its number. */
export interface StreamEvent {
  type: string;
  [field: string]: unknown;
}

/** Starts an answer of events (text/event-stream), its head sent now: a stream followed may wait long for its next event. */
export function openEventStream(res: ServerResponse, requestId: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-request-id": requestId });
  res.flushHeaders();
}

/** One event as OpenAI sends it: `event: <type>` and one `data:` line, its `sequence_number` among its fields. */
export function writeEvent(res: ServerResponse, event: StreamEvent, sequence: number): void {
  if (res.writableEnded || res.destroyed) return;
  const { type, ...fields } = event;
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`);
}

/**
 * A Responses stream's events as OpenAI makes them, each handed to `emit`
 * in order (to be numbered from 0): each output item opened
 * (`output_item.added`, empty), filled in, and closed (`output_item.done`)
 * in output order, then the terminal event carrying the whole response. A
 * message's text streams as the model writes it; tool calls are told whole.
 */
export class ResponseEvents {
  private index = 0;
  /** The message being written, with its output index, while its text streams. */
  private writing?: { id: string; output_index: number; text: string };

  constructor(private readonly emit: (event: StreamEvent) => void) {}

  send(type: string, fields: Record<string, unknown>): void {
    this.emit({ type, ...fields });
  }

  /** A message begins: it is opened, and its text part, before any of its text is known. */
  textStart(itemId: string): void {
    const output_index = this.index++;
    this.writing = { id: itemId, output_index, text: "" };
    this.send("response.output_item.added", { output_index, item: { id: itemId, type: "message", status: "in_progress", role: "assistant", content: [] } });
    this.send("response.content_part.added", { item_id: itemId, output_index, content_index: 0, part: { type: "output_text", annotations: [], logprobs: [], text: "" } });
  }

  textDelta(itemId: string, delta: string): void {
    if (this.writing?.id !== itemId) return;
    this.writing.text += delta;
    this.send("response.output_text.delta", { item_id: itemId, output_index: this.writing.output_index, content_index: 0, delta, logprobs: [] });
  }

  /** One finished item, told as the API tells an item being made (a message already streaming is only closed). */
  item(item: OutputItem): void {
    if (item.type === "message" && this.writing?.id === item.id) {
      const { output_index } = this.writing;
      this.writing = undefined;
      const text = item.content[0]?.text ?? "";
      const at = { item_id: item.id, output_index, content_index: 0 };
      this.send("response.output_text.done", { ...at, text, logprobs: [] });
      this.send("response.content_part.done", { ...at, part: { type: "output_text", annotations: [], logprobs: [], text } });
      this.send("response.output_item.done", { output_index, item });
      return;
    }
    const output_index = this.index++;
    const at = { item_id: item.id, output_index };
    switch (item.type) {
      case "message": {
        this.send("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } });
        const text = item.content[0]?.text ?? "";
        const part = { type: "output_text", annotations: [], logprobs: [], text: "" };
        this.send("response.content_part.added", { ...at, content_index: 0, part });
        if (text) this.send("response.output_text.delta", { ...at, content_index: 0, delta: text, logprobs: [] });
        this.send("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
        this.send("response.content_part.done", { ...at, content_index: 0, part: { ...part, text } });
        break;
      }
      case "function_call":
        this.send("response.output_item.added", { output_index, item: { ...item, status: "in_progress", arguments: "" } });
        this.send("response.function_call_arguments.delta", { ...at, delta: item.arguments });
        this.send("response.function_call_arguments.done", { ...at, name: item.name, arguments: item.arguments });
        break;
      case "mcp_call":
        this.send("response.output_item.added", { output_index, item: { ...item, status: "in_progress", output: null, error: null } });
        this.send("response.mcp_call.in_progress", at);
        this.send("response.mcp_call_arguments.done", { ...at, arguments: item.arguments });
        this.send(item.status === "completed" ? "response.mcp_call.completed" : "response.mcp_call.failed", at);
        break;
      case "mcp_list_tools":
        this.send("response.output_item.added", { output_index, item: { ...item, tools: [] } });
        this.send("response.mcp_list_tools.in_progress", at);
        this.send("response.mcp_list_tools.completed", at);
        break;
    }
    this.send("response.output_item.done", { output_index, item });
  }
}
