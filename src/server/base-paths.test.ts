import assert from "node:assert/strict";
import { test } from "node:test";
import { withoutGatewayPrefix } from "./base-paths.js";

test("Jan's Kong prefixes are stripped to the service's own path", () => {
  assert.equal(withoutGatewayPrefix("/llm/v1/conversations?limit=2"), "/v1/conversations?limit=2");
  assert.equal(withoutGatewayPrefix("/llm/auth/guest-login"), "/auth/guest-login");
  assert.equal(withoutGatewayPrefix("/media/v1/media/upload"), "/v1/media/upload");
  assert.equal(withoutGatewayPrefix("/response/v1/responses/resp_1"), "/v1/responses/resp_1");
  assert.equal(withoutGatewayPrefix("/responses/v1/responses"), "/v1/responses");
  assert.equal(withoutGatewayPrefix("/mcp/v1/mcp/tools/list"), "/v1/mcp/tools/list");
  assert.equal(withoutGatewayPrefix("/mcp/healthz"), "/healthz");
});

test("other paths, the MCP endpoints among them, are left alone", () => {
  for (const url of ["/v1/chat/completions", "/api/chat", "/mcp", "/mcp/search", "/mcp/v1", "/metrics", "/readyz", "/llm", "/mediaplayer/v1/x", "/"]) {
    assert.equal(withoutGatewayPrefix(url), url);
  }
});
