import { basename } from "node:path";

export interface ModelFile {
  name: string;
  path: string;
}

/** `path/to/llama3.gguf` serves as `llama3`; `name=path` chooses the name. */
export function parseModelSpec(spec: string): ModelFile {
  const eq = spec.indexOf("=");
  if (eq > 0 && !spec.slice(0, eq).includes("/")) return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { name: basename(spec).replace(/\.gguf$/i, ""), path: spec };
}
