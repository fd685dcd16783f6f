import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Fastify from "fastify";
import { registerDashboardRoutes } from "./routes.js";

const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
const dirs: string[] = [];

function buildDir(withBuild: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-"));
  dirs.push(dir);
  if (withBuild) {
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), '<!doctype html><script type="module" src="/dashboard/assets/index-abc.js"></script>');
    writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(1)");
  }
  writeFileSync(join(dir, "secret.txt"), "not served");
  return dir;
}

async function appWith(withBuild: boolean) {
  const app = Fastify();
  registerDashboardRoutes(app, buildDir(withBuild));
  await app.ready();
  return app;
}

describe("the dashboard's routes", () => {
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  test("a browser gets the page at /, /dashboard and its client-side routes, with the security headers", async () => {
    const app = await appWith(true);
    for (const url of ["/", "/dashboard", "/dashboard/keys", "/dashboard/playground/anything"]) {
      const res = await app.inject({ url, headers: BROWSER });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /index-abc\.js/);
      assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
      assert.match(String(res.headers["content-security-policy"]), /^default-src 'self'; script-src 'self';.*frame-ancestors 'none'$/);
      assert.equal(res.headers["x-content-type-options"], "nosniff");
      assert.equal(res.headers["referrer-policy"], "no-referrer");
    }
  });

  test("an Ollama client probing / still reads that Ollama is running", async () => {
    const app = await appWith(true);
    const res = await app.inject({ url: "/" });
    assert.equal(res.body, "Ollama is running");
    assert.equal(res.headers.vary, "accept");
  });

  test("hashed assets are cached for a year; anything else under assets/ is a 404, and no path reaches other files", async () => {
    const app = await appWith(true);
    const asset = await app.inject({ url: "/dashboard/assets/index-abc.js" });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
    for (const url of ["/dashboard/assets/nope.js", "/dashboard/assets/../secret.txt", "/dashboard/assets/%2e%2e%2fsecret.txt", "/dashboard/assets/"]) {
      const res = await app.inject({ url });
      assert.ok(res.statusCode < 500, url);
      assert.ok(!res.body.includes("not served"), url);
    }
  });

  test("without a build, / says to run npm run build instead of failing", async () => {
    const app = await appWith(false);
    for (const url of ["/", "/dashboard", "/dashboard/fleet"]) {
      const res = await app.inject({ url, headers: BROWSER });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.body, /npm run build/);
      assert.match(String(res.headers["content-security-policy"]), /default-src 'self'/);
    }
    assert.equal((await app.inject({ url: "/dashboard/assets/index-abc.js" })).statusCode, 404);
  });
});
