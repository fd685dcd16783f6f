import { statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";

export const DEFAULT_TINY_MODEL = join("data", "models", "tiny.gguf");

/** `flotilla make-tiny-model [FILE]`: writes the random-weight model used by the default run and the tests. */
export async function makeTinyModel(argv: string[]): Promise<number> {
  if (argv.length > 1 || argv[0]?.startsWith("-")) {
    process.stderr.write("usage: flotilla make-tiny-model [FILE]\n");
    return 2;
  }
  const file = argv[0] ?? DEFAULT_TINY_MODEL;
  const { writeTinyModel } = await import("../engine/tiny-gguf.js");
  const started = performance.now();
  await mkdir(dirname(file), { recursive: true });
  await writeTinyModel(file);
  const kb = Math.round(statSync(file).size / 1024);
  process.stdout.write(`wrote ${file} (${kb} KB, random weights, ${Math.round(performance.now() - started)} ms)\n`);
  return 0;
}
