import { deeplyNested, FUZZ_NAME, HUGE_STRING, NASTY_STRINGS, RawJson, sample, toJson, wrongValues, type Schema } from "./values.js";

/** One operation of the gateway's OpenAPI document, as the fuzz suite reads it. */
export interface Operation {
  method: string;
  /** OpenAPI template: /admin/servers/{name} */
  path: string;
  auth: string;
  body?: Schema;
  params: Array<{ name: string; in: "path" | "query"; required: boolean; schema?: Schema }>;
}

export interface FuzzCase {
  /** What was varied, for the failure message. */
  name: string;
  method: string;
  /** Path and query, encoded as sent. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { "x-flotilla-auth"?: string; requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: Operation["params"] }>>;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      auth: op["x-flotilla-auth"] ?? "public",
      body: op.requestBody?.content?.["application/json"]?.schema,
      params: (op.parameters ?? []).filter((p) => p.in === "path" || p.in === "query"),
    })),
  );
}

/** Path segments as sent: encoded percent signs, traversal, NUL, broken UTF-8, non-ASCII, a long one, and for `*` a slash. */
const PATH_VALUES = ["%25", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", "%00", "%E0%A4%A", "%C3%BCn%C3%AF", "%0d%0aX-Injected:%201", "x".repeat(600), "%ff%fe"];
const WILDCARD_VALUES = ["a/b/../../c", "a%2Fb"];
const QUERY_VALUES = ["abc", "1e400", "-1", "", "x".repeat(10_000), "NaN", "%00", "0x10", "-0", "1.5", "%E0%A4%A"];
const MALFORMED_JSON = ["{", '{"a":', "[1,", "nul", '{"a":1}}', "\u0000", "{'single':'quotes'}", '{"a":1,}'];
const CONTENT_TYPES: Array<[string, (json: string) => string]> = [
  ["text/plain", (json) => json],
  ["application/x-www-form-urlencoded", () => "model=m&name=x&url=http%3A%2F%2F127.0.0.1%3A9"],
  ["multipart/form-data; boundary=fuzz", () => '--fuzz\r\ncontent-disposition: form-data; name="model"\r\n\r\nm\r\n--fuzz--\r\n'],
  ["application/json; charset=utf-16", (json) => json],
  ["application/json", () => "<?xml version='1.0'?><a/>"],
  ["application/octet-stream", (json) => json],
];

function fillPath(op: Operation, override?: { name: string; value: string }): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (override?.name === name) return override.value;
    const schema = op.params.find((p) => p.in === "path" && p.name === name)?.schema;
    const value = sample(schema);
    return encodeURIComponent(typeof value === "string" && value !== "" ? value : FUZZ_NAME);
  });
}

function query(op: Operation, override?: { name: string; value: string }): string {
  const parts: string[] = [];
  for (const p of op.params.filter((q) => q.in === "query")) {
    if (override?.name === p.name) {
      parts.push(`${p.name}=${override.value}`);
      continue;
    }
    if (!p.required || p.schema?.default !== undefined) continue;
    parts.push(`${p.name}=${encodeURIComponent(String(sample(p.schema)))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Every case for one operation, the valid request first. */
export function casesFor(op: Operation): FuzzCase[] {
  const base = { method: op.method, url: fillPath(op) + query(op), headers: {} as Record<string, string> };
  const bodySample = op.body ? sample(op.body) : undefined;
  const json = (value: unknown) => ({ ...base, headers: { "content-type": "application/json" }, body: toJson(value) });
  const cases: FuzzCase[] = [{ name: "valid", ...(op.body ? json(bodySample) : base) }];

  for (const p of op.params) {
    const values = p.in === "query" ? QUERY_VALUES : p.name === "*" ? [...PATH_VALUES, ...WILDCARD_VALUES] : PATH_VALUES;
    for (const value of values) {
      const override = { name: p.name, value };
      const url = p.in === "path" ? fillPath(op, override) + query(op) : fillPath(op) + query(op, override);
      cases.push({ ...(op.body ? json(bodySample) : base), name: `${p.in} ${p.name}=${value.slice(0, 40)}`, url });
    }
    if (p.in === "query") cases.push({ ...base, name: `query ${p.name} twice`, url: `${fillPath(op)}${query(op)}${query(op) ? "&" : "?"}${p.name}=1&${p.name}=2` });
  }

  if (!op.body) {
    cases.push({ ...json({ fuzz: HUGE_STRING.slice(0, 1000) }), name: "a body where none is taken" });
    return cases;
  }

  for (const text of MALFORMED_JSON) cases.push({ ...json(null), name: `malformed JSON ${JSON.stringify(text)}`, body: text });
  cases.push({ ...json(null), name: "empty body", body: "" });
  for (const root of [[], "fuzz", 1, null, true]) cases.push({ ...json(root), name: `body is ${JSON.stringify(root)}` });
  cases.push({ ...json(null), name: "body nested 100000 deep", body: deeplyNested(100_000) });
  cases.push({ ...json(null), name: "body of 2 MB", body: toJson({ ...(bodySample as object), fuzz: "x".repeat(2_000_000) }) });
  for (const [type, body] of CONTENT_TYPES) cases.push({ ...base, name: `content-type ${type}`, headers: { "content-type": type }, body: body(toJson(bodySample)) });
  cases.push({ ...base, name: "no content-type", body: toJson(bodySample) });

  const object = typeof bodySample === "object" && bodySample !== null && !Array.isArray(bodySample) ? (bodySample as Record<string, unknown>) : undefined;
  if (!object) return cases;
  cases.push({ ...json({ ...object, fuzz_extra: 1 }), name: "an extra field" });
  cases.push({ ...json(null), name: "__proto__ and constructor fields", body: toJson(object).replace(/^\{/, '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"admin":true}},') });
  for (const name of op.body.required ?? []) {
    const { [name]: _dropped, ...rest } = object;
    cases.push({ ...json(rest), name: `missing ${name}` });
  }
  for (const [name, schema] of Object.entries(op.body.properties ?? {})) {
    for (const value of wrongValues(schema)) {
      const shown = value instanceof RawJson ? value.text : typeof value === "string" ? JSON.stringify(value.slice(0, 20)) : Array.isArray(value) ? `array of ${value.length}` : JSON.stringify(value);
      cases.push({ ...json({ ...object, [name]: value }), name: `${name}=${shown}` });
    }
    cases.push({ ...json(null), name: `${name} nested 10000 deep`, body: toJson({ ...object, [name]: new RawJson(deeplyNested(10_000)) }) });
  }
  for (const nasty of NASTY_STRINGS.slice(0, 3)) cases.push({ ...json({ ...object, [nasty]: nasty }), name: `a field named ${JSON.stringify(nasty)}` });
  return cases;
}
