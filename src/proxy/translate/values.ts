import type { Json } from "./types.js";

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object at `value`, or an empty one: reading a field of junk never throws. */
export function objectAt(value: unknown): Json {
  return isObject(value) ? value : {};
}

export function stringAt(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export function numberAt(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Copies the defined entries only, so absent fields stay absent on the wire. */
export function defined(fields: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The message of an error payload of either API, or undefined when `payload` is not an error. */
export function errorMessageOf(payload: unknown): string | undefined {
  if (!isObject(payload)) return undefined;
  const error = payload.error;
  if (typeof error === "string") return error;
  if (isObject(error)) return typeof error.message === "string" ? error.message : JSON.stringify(error);
  if (payload.object === "error" && typeof payload.message === "string") return payload.message;
  return undefined;
}
