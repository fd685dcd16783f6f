import { NotJson } from "./framing.js";

/** How much of what a server sent an error message quotes: enough to recognise it, never a megabyte of it. */
const QUOTED = 200;

export function quote(payload: unknown): string {
  const text = payload instanceof NotJson ? payload.text : (JSON.stringify(payload) ?? String(payload));
  return text.length > QUOTED ? `${text.slice(0, QUOTED)}…` : text;
}

/** What is wrong with `payload`, sent as `frame` ("a line", "an event", "a response body") where `expected` was due. */
export function notAnswer(frame: string, payload: unknown, expected: string): string {
  return `sent ${frame} that is not ${payload instanceof NotJson ? "JSON" : expected}: ${quote(payload)}`;
}
