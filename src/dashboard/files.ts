import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";

export interface Asset {
  body: Buffer;
  type: string;
}

/** What the Vite build left: the page, and its hashed assets by file name. Undefined when the build did not run. */
export interface DashboardBuild {
  index: string;
  assets: Map<string, Asset>;
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

/**
 * Reads the build once, at start: a few small files, and a request can then
 * only ever name one of them (no path from a URL reaches the file system).
 */
export function readBuild(dir: string): DashboardBuild | undefined {
  const indexFile = join(dir, "index.html");
  if (!existsSync(indexFile)) return undefined;
  const assetsDir = join(dir, "assets");
  const assets = new Map<string, Asset>();
  if (existsSync(assetsDir)) {
    for (const entry of readdirSync(assetsDir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      assets.set(entry.name, { body: readFileSync(join(assetsDir, entry.name)), type: TYPES[extname(entry.name)] ?? "application/octet-stream" });
    }
  }
  return { index: readFileSync(indexFile, "utf8"), assets };
}

/** Answered in place of the dashboard on a checkout where `npm run build` has not run. */
export const MISSING_BUILD_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Flotilla</title></head>
<body>
<h1>Flotilla is running</h1>
<p>The dashboard has not been built on this checkout. Run <code>npm run build</code> (or <code>npm install</code>), then restart the gateway.</p>
<p>The APIs work meanwhile: see <a href="/api/client/">the API reference</a>.</p>
</body>
</html>
`;
