import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// Read from the source tree: the rule is about what the code says, not what tsc made of it.
const SRC = fileURLToPath(new URL("../../../src", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Each file's folder under src/ and the src/ folders its imports reach. */
function importsByFile(): Array<{ file: string; folder: string; reaches: string[] }> {
  return sourceFiles(SRC).map((path) => {
    const file = relative(SRC, path);
    const folder = file.split("/")[0];
    const reaches = [...readFileSync(path, "utf8").matchAll(/^(?:import|export)[^"]*?from "(\.[^"]+)"/gm)]
      .map((m) => relative(SRC, join(path, "..", m[1])).split("/")[0])
      .filter((target) => target !== folder && !target.startsWith(".."));
    return { file, folder, reaches };
  });
}

test("server/ is the top: only cli/ and server/ itself import it", () => {
  const offenders = importsByFile().filter((f) => f.folder !== "cli" && f.reaches.includes("server")).map((f) => f.file);
  assert.deepEqual(offenders, []);
});

test("kernel/ is the ground floor: it imports no other folder of src/", () => {
  const offenders = importsByFile().filter((f) => f.folder === "kernel" && f.reaches.length > 0).map((f) => `${f.file} → ${f.reaches.join(", ")}`);
  assert.deepEqual(offenders, []);
});

test("the router, admission and the store import nothing from server/, proxy/ or observe/", () => {
  const lower = (f: { file: string; folder: string }) => f.folder === "store" || f.file === "fleet/router.ts" || f.file === "fleet/admission.ts";
  const offenders = importsByFile()
    .filter((f) => lower(f) && f.reaches.some((r) => r === "server" || r === "proxy" || r === "observe"))
    .map((f) => `${f.file} → ${f.reaches.join(", ")}`);
  assert.deepEqual(offenders, []);
});

test("observe/ records plain records: it imports nothing from proxy/", () => {
  const offenders = importsByFile().filter((f) => f.folder === "observe" && f.reaches.includes("proxy")).map((f) => f.file);
  assert.deepEqual(offenders, []);
});
