/**
 * Values for the fuzz suite, read off an operation's JSON Schema: one that
 * should pass (`sample`), and ones that should not (`wrongValues`), among
 * them the raw JSON texts a JSON.stringify cannot write (1e400, -0).
 */

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  default?: unknown;
  additionalProperties?: boolean | Schema;
}

/** A JSON text spliced in where a value goes: for numbers JSON.stringify cannot write. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Strings a pattern is tried against, in order, before giving up on it. */
const PATTERN_CANDIDATES = ["fuzz-1", "http://127.0.0.1:9", "fuzz", "a", "1", "sha256:" + "0".repeat(64), "fuzz.example"];

/** What the fuzz names things it makes, so they never collide with what the gateway serves. */
export const FUZZ_NAME = "fuzz-1";

function typeOf(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== "null");
  if (schema.type) return schema.type;
  if (schema.properties) return "object";
  return undefined;
}

/** A value the schema accepts: the smallest such, with every required property. */
export function sample(schema: Schema | undefined): unknown {
  if (!schema) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return sample(variants[0]);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(s) as object));
  if (schema.default !== undefined) return schema.default;
  switch (typeOf(schema)) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = sample(schema.properties?.[name]);
      return out;
    }
    case "array":
      return Array.from({ length: schema.minItems ?? 1 }, () => sample(schema.items));
    case "string":
      return sampleString(schema);
    case "integer":
    case "number": {
      const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
      return schema.maximum !== undefined ? Math.min(low, schema.maximum) : low;
    }
    case "boolean":
      return false;
    default:
      return {};
  }
}

function sampleString(schema: Schema): string {
  let value = FUZZ_NAME;
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    value = PATTERN_CANDIDATES.find((c) => pattern.test(c)) ?? FUZZ_NAME;
  }
  if (schema.minLength !== undefined && value.length < schema.minLength) value = value.padEnd(schema.minLength, "x");
  if (schema.maxLength !== undefined) value = value.slice(0, schema.maxLength);
  return value;
}

export const HUGE_STRING = "x".repeat(300_000);

/** Strings that trip naive code: NUL, a lone surrogate, direction overrides, traversal, markup, a format string. */
export const NASTY_STRINGS = ["a\u0000b", "\ud800", "ünïcødé 🚀 \u202e", "../../../../etc/passwd", "<script>alert(1)</script>", "%s%n%x", "", " ", "\r\nX-Injected: 1"];

/** Numbers out of every range: not finite, negative, huge, fractional, past 2^53. */
export const NASTY_NUMBERS = [new RawJson("1e400"), new RawJson("-1e400"), new RawJson("-0"), -1, 0, 0.5, 1e308, -1e308, 2 ** 53 + 2];

/** Values of the wrong type for a schema (null, and one of each type it is not), plus the edge values of its own type. */
export function wrongValues(schema: Schema | undefined): unknown[] {
  const type = schema ? typeOf(schema) : undefined;
  const others: Record<string, unknown> = { string: "fuzz", number: 12345, boolean: true, array: [1, "two"], object: { fuzz: 1 } };
  const out: unknown[] = [null];
  for (const [t, v] of Object.entries(others)) if (t !== type && !(t === "number" && type === "integer")) out.push(v);
  if (type === "string") out.push(HUGE_STRING, ...NASTY_STRINGS);
  if (type === "number" || type === "integer") out.push(...NASTY_NUMBERS);
  if (type === "array") out.push(Array.from({ length: 100_000 }, (_, i) => i), Array.from({ length: 1000 }, () => HUGE_STRING.slice(0, 1000)));
  return out;
}

/** JSON text for a value that may hold RawJson pieces. */
export function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return raws.length === 0 ? text : text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]);
}

/** An array nested `depth` deep: a parser or a recursive walk that has no bound meets its stack limit. */
export function deeplyNested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}
