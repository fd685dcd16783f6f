import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Where a plugin comes from: a file or folder in the plugins directory, or an npm package. */
export interface PluginSource {
  kind: "file" | "folder" | "package";
  /** The file's or folder's path, or the package's name. */
  location: string;
}

/**
 * The plugins in `dir`: every `*.js` and `*.mjs` file and every folder with a
 * package.json, in name order. A directory that does not exist (or lies under a
 * file) holds none, unless the operator named it (then it is a mistake worth stopping for).
 */
export function pluginsIn(dir: string, named: boolean): PluginSource[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The default lies in the data dir: when that cannot be read, the start stops over the data dir itself, naming it.
    if ((code === "ENOENT" || code === "ENOTDIR") && !named) return [];
    throw new Error(`plugins.dir ${dir}: ${code ?? String(err)}`);
  }
  const found: PluginSource[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith(".")) continue;
    const location = resolve(dir, entry.name);
    if (entry.isFile() && /\.m?js$/.test(entry.name)) found.push({ kind: "file", location });
    else if (entry.isDirectory() && isFile(join(location, "package.json"))) found.push({ kind: "folder", location });
  }
  return found;
}

/** What `import()` is given for a source: a file URL, or the package name (resolved from the project's node_modules). */
export function specifierOf(source: PluginSource): string {
  if (source.kind === "package") return source.location;
  if (source.kind === "file") return pathToFileURL(source.location).href;
  return pathToFileURL(join(source.location, folderEntry(source.location))).href;
}

/** A folder's entry file: its package.json's `exports` (when one file), else `main`, else index.js. */
function folderEntry(folder: string): string {
  const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { exports?: unknown; main?: unknown };
  const exported = typeof manifest.exports === "object" && manifest.exports !== null ? (manifest.exports as Record<string, unknown>)["."] : manifest.exports;
  if (typeof exported === "string") return exported;
  return typeof manifest.main === "string" ? manifest.main : "index.js";
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
