import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { PluginStatus } from "./loader.js";

const Names = Type.Array(Type.String({ maxLength: 128 }));

const PluginView = Type.Object({
  name: Type.String({ maxLength: 214 }),
  version: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  source: Type.Object({
    kind: Type.Union([Type.Literal("file"), Type.Literal("folder"), Type.Literal("package")]),
    location: Type.String({ description: "The file's or folder's path, or the package's name" }),
  }),
  status: Type.Union([Type.Literal("loaded"), Type.Literal("failed")]),
  error: Type.Union([Type.String(), Type.Null()], { description: "Why it did not load (only with plugins.required: false; else the start stops)" }),
  adds: Type.Object({
    strategies: Names,
    channels: Names,
    hooks: Type.Array(Type.Union([Type.Literal("beforeRoute"), Type.Literal("afterResponse")])),
  }),
});

/** Seed 004's `GET /api/plugins`: the plugins this gateway loaded at start, what each adds, and any that failed. */
export function registerPluginRoutes(app: FastifyInstance, plugins: readonly PluginStatus[]): void {
  app.get(
    "/api/plugins",
    {
      schema: { summary: "The installed plugins: where each came from, what it adds (strategies, channels, hooks), or why it failed", tags: ["plugins"], response: { 200: Type.Object({ plugins: Type.Array(PluginView) }) } },
      config: { auth: "admin" },
    },
    async function listPlugins() {
      return { plugins };
    },
  );
}
