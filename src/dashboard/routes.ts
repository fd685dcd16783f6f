import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fileURLToPath } from "node:url";
import { FlotillaError } from "../kernel/index.js";
import { MISSING_BUILD_PAGE, readBuild, type DashboardBuild } from "./files.js";

/** Where `vite build dashboard` writes, seen from dist/src/dashboard/. */
const BUILD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

/**
 * The page's own scripts and styles only: no inline script or style, nothing
 * from elsewhere, never inside a frame. Vite's build emits external module
 * scripts and stylesheets, so 'self' is enough.
 */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};
/** Asset names carry a hash of their content: a new build makes new names. */
const ASSET_CACHE = "public, max-age=31536000, immutable";

function sendPage(reply: FastifyReply, build: DashboardBuild | undefined): FastifyReply {
  return reply.headers(PAGE_HEADERS).type("text/html; charset=utf-8").send(build?.index ?? MISSING_BUILD_PAGE);
}

function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? "").includes("text/html");
}

/** The web dashboard at / and /dashboard, its client-side routes under /dashboard/, and its hashed assets. */
export function registerDashboardRoutes(app: FastifyInstance, buildDir = BUILD_DIR): void {
  const build = readBuild(buildDir);
  const config = { auth: "public" as const };
  const schema = { hide: true };

  // Ollama clients and tools probe the root for this exact text; a browser asks for HTML and gets the dashboard.
  app.get("/", { schema, config }, async function root(req, reply) {
    void reply.header("vary", "accept");
    if (wantsHtml(req)) return sendPage(reply, build);
    return reply.type("text/plain; charset=utf-8").send("Ollama is running");
  });

  app.get("/dashboard", { schema, config }, async function dashboard(_req, reply) {
    return sendPage(reply, build);
  });

  app.get("/dashboard/*", { schema, config }, async function dashboardPath(req, reply) {
    const path = (req.params as { "*": string })["*"];
    if (!path.startsWith("assets/")) return sendPage(reply, build);
    const asset = build?.assets.get(path.slice("assets/".length));
    if (!asset) throw new FlotillaError("not_found", `no dashboard file "${path}"`);
    return reply.headers({ "x-content-type-options": "nosniff", "cache-control": ASSET_CACHE }).type(asset.type).send(asset.body);
  });
}
