import AjvCompiler from "@fastify/ajv-compiler";

type BuildValidator = ReturnType<typeof AjvCompiler>;
type Validate = ReturnType<ReturnType<BuildValidator>> & { errors?: unknown; schemaEnv?: unknown };

/**
 * Fastify's own validator compiler, twice: as configured, and coercing for
 * query strings — a query string is text by nature, so `?hours=24` is read as
 * the number its schema says.
 */
export const queryCoercingValidator: BuildValidator = (externalSchemas, options) => {
  const exact = AjvCompiler()(externalSchemas, options);
  const customOptions = { ...(options?.customOptions as AjvCompiler.Options | undefined), coerceTypes: true };
  const coercing = AjvCompiler()(externalSchemas, { ...(options as object), customOptions } as Parameters<BuildValidator>[1]);
  return (route) => (route.httpPart === "querystring" ? finiteNumbersOnly(coercing(route) as Validate) : exact(route));
};

/**
 * Ajv coerces `1e400` to Infinity and then checks no bound against it (a
 * JSON body cannot carry one: its type check refuses it). A query number
 * that is not finite is refused here, naming its field.
 */
function finiteNumbersOnly(validate: Validate): Validate {
  const checked = function validateQuery(data: unknown, context?: unknown) {
    const valid = (validate as (data: unknown, context?: unknown) => boolean)(data, context);
    checked.errors = validate.errors;
    if (!valid) return false;
    const field = nonFiniteField(data);
    if (field === undefined) return true;
    checked.errors = [{ instancePath: `/${field}`, schemaPath: "", keyword: "type", params: {}, message: "must be a finite number" }];
    return false;
  } as unknown as Validate;
  checked.schemaEnv = validate.schemaEnv;
  return checked;
}

function nonFiniteField(query: unknown): string | undefined {
  if (query === null || typeof query !== "object") return undefined;
  for (const [name, value] of Object.entries(query)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === "number" && !Number.isFinite(v))) return name;
  }
  return undefined;
}
