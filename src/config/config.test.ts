import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "./index.js";

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "flotilla-config-")), "flotilla.yaml");
  writeFileSync(file, text);
  return file;
}

test("defaults give port 8080, data in ./data and key-protected inference", () => {
  const config = loadConfig({}, {});
  assert.equal(config.port, 8080);
  assert.equal(config.data_dir, "./data");
  assert.equal(config.auth.proxy, "key");
  assert.equal(config.routing.first_byte_timeout_ms, 90_000);
  assert.ok(Object.isFrozen(config.routing));
});

test("file < env < flags, each layer overriding the one before", () => {
  const file = yamlFile("port: 9000\nhost: 127.0.0.1\nrouting:\n  max_attempts: 2\n  queue_max: 5\n");
  const config = loadConfig(
    { config: file, port: "9100" },
    { FLOTILLA_PORT: "9050", FLOTILLA_ROUTING__QUEUE_MAX: "7", DATABASE_URL: "postgres://x@127.0.0.1/db" },
  );
  assert.equal(config.port, 9100);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.routing.max_attempts, 2);
  assert.equal(config.routing.queue_max, 7);
  assert.equal(config.database_url, "postgres://x@127.0.0.1/db");
});

test("servers from the file keep their names; --server flags get host:port names and an optional kind", () => {
  const file = yamlFile("servers:\n  - name: gpu1\n    url: http://10.0.0.5:11434/\n    kind: ollama\n    max_concurrency: 4\n");
  assert.deepEqual(loadConfig({ config: file }, {}).servers, [
    { name: "gpu1", url: "http://10.0.0.5:11434", kind: "ollama", max_concurrency: 4 },
  ]);
  const flagged = loadConfig({ server: ["http://127.0.0.1:8000,openai", "http://gpu2:11434"] }, {}).servers;
  assert.deepEqual(flagged, [
    { name: "127.0.0.1:8000", url: "http://127.0.0.1:8000", kind: "openai" },
    { name: "gpu2:11434", url: "http://gpu2:11434" },
  ]);
});

test("a server may sit under a base path, from the file, a --server flag or FLOTILLA_SERVERS; trailing slashes are dropped", () => {
  const file = yamlFile("servers:\n  - name: gpu1\n    url: http://proxy:8080/ollama/\n    kind: ollama\n");
  assert.deepEqual(loadConfig({ config: file }, {}).servers, [{ name: "gpu1", url: "http://proxy:8080/ollama", kind: "ollama" }]);
  assert.deepEqual(loadConfig({ server: ["http://proxy:8080/vllm/,openai"] }, {}).servers, [{ name: "proxy:8080_vllm", url: "http://proxy:8080/vllm", kind: "openai" }]);
  assert.deepEqual(loadConfig({}, { FLOTILLA_SERVERS: "https://gw.example/llama" }).servers, [{ name: "gw.example:443_llama", url: "https://gw.example/llama" }]);
  // Two servers behind one proxy differ by their base path, and so do their names.
  assert.deepEqual(
    loadConfig({ server: ["http://proxy/a", "http://proxy/b/c"] }, {}).servers.map((s) => s.name),
    ["proxy:80_a", "proxy:80_b_c"],
  );
});

test("a server address with credentials, a query, a fragment or a trailing /v1 is refused, saying what to give instead", () => {
  const refused: Array<[string, RegExp]> = [
    ["http://u:p@gpu:8000", /carries credentials: give the server's key as api_key/],
    ["http://gpu:8000/?token=x", /has a query or fragment/],
    ["http://gpu:8000/x#top", /has a query or fragment/],
    ["http://gpu:8000/v1", /ends in \/v1: give the address without it \(http:\/\/gpu:8000\)/],
    ["http://proxy/vllm/v1/", /ends in \/v1: give the address without it \(http:\/\/proxy\/vllm\)/],
  ];
  for (const [url, message] of refused) {
    assert.throws(() => loadConfig({ server: [url] }, {}), (err: ConfigError) => err.problems.length === 1 && /^servers\[0\]\.url: /.test(err.problems[0]) && message.test(err.problems[0]), url);
  }
});

test("every bad key is named at once", () => {
  const file = yamlFile("port: lots\nservers:\n  - url: ftp://x\n  - name: a\n    url: http://a:1\n    colour: red\nauth:\n  proxy: maybe\n");
  assert.throws(
    () => loadConfig({ config: file }, {}),
    (err: ConfigError) => {
      const text = err.problems.join("\n");
      for (const key of ["port", "servers[0].url", "servers[1]", "auth.proxy"]) assert.match(text, new RegExp(key.replace(/[[\].]/g, "\\$&")));
      return true;
    },
  );
});

test("duplicate server names and unreadable files are reported", () => {
  const file = yamlFile("servers:\n  - name: a\n    url: http://x:1\n  - name: a\n    url: http://y:1\n");
  assert.throws(() => loadConfig({ config: file }, {}), /servers\[1\]\.name: "a" is used by another server/);
  assert.throws(() => loadConfig({ config: "/nonexistent/flotilla.yaml" }, {}), /ENOENT/);
});

test("OLLAMA_ADMIN_TOKEN is an alias of the admin key and *_FILE reads a mounted secret", () => {
  assert.equal(loadConfig({}, { OLLAMA_ADMIN_TOKEN: "token-12345" }).admin_key, "token-12345");
  const secret = yamlFile("from-a-file-123\n");
  assert.equal(loadConfig({}, { FLOTILLA_ADMIN_KEY_FILE: secret }).admin_key, "from-a-file-123");
});

test("rate limits and token settings come from env like any nested key; a bad OIDC block is named", () => {
  const config = loadConfig({}, { FLOTILLA_AUTH__RATE_LIMITS__INFERENCE__PER_KEY: "5", FLOTILLA_AUTH__ACCESS_TTL_MS: "60000" });
  assert.deepEqual(config.auth.rate_limits.inference, { per_key: 5, per_user: 0, window_ms: 60_000 });
  assert.deepEqual([config.auth.rate_limits.admin.per_key, config.auth.access_ttl_ms, config.auth.guests], [0, 60_000, false]);
  assert.throws(() => loadConfig({}, { FLOTILLA_AUTH__OIDC__ISSUER: "not a url" }), /auth\.oidc/);
});

test("guests are off by default and, when on, tightly bounded; callers' in-flight limits and the inference body limit have small defaults", () => {
  const config = loadConfig({}, {});
  assert.deepEqual([config.auth.guests, config.auth.guest_limits], [false, { requests_per_minute: 30, body_bytes: 1024 * 1024, requests_in_flight: 2 }]);
  assert.deepEqual(
    [config.limits.inference_body_bytes, config.limits.requests_in_flight_per_key, config.limits.body_bytes_in_flight_per_key],
    [8 * 1024 * 1024, 64, 128 * 1024 * 1024],
  );
  assert.equal(loadConfig({}, { FLOTILLA_AUTH__GUESTS: "true" }).auth.guests, true);
});

test("outbound allows nothing internal by default; its allow list comes from YAML or from one env value, and a bad entry is named", () => {
  assert.deepEqual(loadConfig({}, {}).outbound, { allow_private: false, allow: [] });
  const file = yamlFile("outbound:\n  allow: [hooks.lan, 10.1.0.0/16]\n");
  assert.deepEqual(loadConfig({ config: file }, {}).outbound.allow, ["hooks.lan", "10.1.0.0/16"]);
  const env = loadConfig({}, { FLOTILLA_OUTBOUND__ALLOW: "127.0.0.1, fd00::/8 hooks.lan", FLOTILLA_OUTBOUND__ALLOW_PRIVATE: "true" }).outbound;
  assert.deepEqual(env, { allow_private: true, allow: ["127.0.0.1", "fd00::/8", "hooks.lan"] });
  assert.throws(() => loadConfig({}, { FLOTILLA_OUTBOUND__ALLOW: "10.0.0.0/40" }), /outbound\.allow\[0\]: "10\.0\.0\.0\/40" is not a CIDR/);
});

test("secret_key comes from FLOTILLA_SECRET_KEY or a mounted file, and must be at least 32 characters", () => {
  const key = "k".repeat(32);
  assert.equal(loadConfig({}, { FLOTILLA_SECRET_KEY: key }).secret_key, key);
  assert.equal(loadConfig({}, { FLOTILLA_SECRET_KEY_FILE: yamlFile(`${key}\n`) }).secret_key, key);
  assert.equal(loadConfig({}, {}).secret_key, undefined);
  assert.throws(() => loadConfig({}, { FLOTILLA_SECRET_KEY: "too-short" }), /secret_key:/);
});

test("a secret setting that is wrong is named, and its value is not printed", () => {
  for (const [env, key] of [["FLOTILLA_SECRET_KEY", "secret_key"], ["FLOTILLA_ADMIN_KEY", "admin_key"], ["FLOTILLA_AUTH__TOKEN_SECRET", "auth.token_secret"]]) {
    assert.throws(
      () => loadConfig({}, { [env]: "s3cr3t" }),
      (err: Error) => err.message.includes(`${key}:`) && !err.message.includes("s3cr3t"),
      key,
    );
  }
  assert.throws(() => loadConfig({}, { FLOTILLA_PORT: "99999" }), /port: .*\(got 99999\)/, "other values are still shown");
});
