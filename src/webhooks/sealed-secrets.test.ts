import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { OutboundGuard, Sealer } from "../kernel/index.js";
import type { Store, WebhookDeliveryRow, WebhookRow } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { WebhookDispatcher } from "./dispatcher.js";
import { newWebhookSecret, sealPlainSigningSecrets } from "./signing.js";

const SECRET = "the-gateway-secret-key-these-tests-seal-with";
const signingSecrets = (secret = SECRET) => new Sealer(secret, "webhook signing secret");

/** A loopback endpoint that takes deliveries, and a dispatcher (sealing under `secret`) that sends there. */
async function endpoint(store: Store, secret = SECRET) {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const warnings: string[] = [];
  const outbound = new OutboundGuard({ allowPrivate: true, allow: [] });
  const dispatcher = new WebhookDispatcher(store, {
    outbound, maxAttempts: 1, retryBaseMs: 10, timeoutMs: 5000, pollMs: 1000, log: { warn: (m) => warnings.push(m) }, signingSecrets: signingSecrets(secret),
  });
  const hook = (id: string, stored: string): WebhookRow => ({
    id, owner: "user_a", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: '["*"]', secret: stored, description: null, enabled: 1, created_at: Date.now(), updated_at: Date.now(),
  });
  return {
    dispatcher, hook, received, warnings,
    async close() {
      await dispatcher.close();
      await outbound.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function storedSecret(store: Store, id: string): Promise<string> {
  return (await store.db.selectFrom("webhooks").select("secret").where("id", "=", id).executeTakeFirstOrThrow()).secret;
}

/** The delivery of `hook`'s one event, once its attempt is recorded. */
async function settled(store: Store, id: string): Promise<WebhookDeliveryRow> {
  for (let i = 0; i < 200; i++) {
    const [delivery] = await store.webhooks.deliveries(id, 1);
    if (delivery && delivery.status !== "pending") return delivery;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the delivery to ${id} did not settle`);
}

async function verify(got: { headers: IncomingHttpHeaders; body: string }, secret: string): Promise<void> {
  await new OpenAI({ apiKey: "unused" }).webhooks.verifySignature(got.body, got.headers as Record<string, string>, secret);
}

forEachBackend("a new webhook's signing secret is stored sealed, and its deliveries verify with the secret its owner was shown", async (store) => {
  const target = await endpoint(store);
  try {
    const { secret, stored } = target.dispatcher.newSigningSecret();
    await store.webhooks.insert(target.hook("wh_new", stored));
    const raw = await storedSecret(store, "wh_new");
    assert.ok(raw.startsWith("enc:v1:") && !raw.includes(secret.slice("whsec_".length)), `stored as ${raw}`);
    await target.dispatcher.emitFor("user_a", "webhook.test", { id: "wh_new" });
    assert.equal((await settled(store, "wh_new")).status, "delivered");
    await verify(target.received[0], secret);
  } finally {
    await target.close();
  }
});

forEachBackend("a signing secret stored as plain text before sealing is sealed at the next start, and deliveries still verify", async (store) => {
  const target = await endpoint(store);
  try {
    const secret = newWebhookSecret();
    await store.webhooks.insert(target.hook("wh_old", secret));
    await sealPlainSigningSecrets(store, signingSecrets());
    const raw = await storedSecret(store, "wh_old");
    assert.ok(raw.startsWith("enc:v1:") && !raw.includes(secret.slice("whsec_".length)), `stored as ${raw}`);
    await target.dispatcher.emitFor("user_a", "webhook.test", { id: "wh_old" });
    assert.equal((await settled(store, "wh_old")).status, "delivered");
    await verify(target.received[0], secret);
  } finally {
    await target.close();
  }
});

forEachBackend("a signing secret that does not open under this secret_key fails its delivery with a clear error, and is never sent unsigned", async (store) => {
  const target = await endpoint(store, "another-secret-key-that-is-32-characters-long");
  try {
    await store.webhooks.insert(target.hook("wh_lost", signingSecrets().seal(newWebhookSecret())));
    await target.dispatcher.emitFor("user_a", "webhook.test", { id: "wh_lost" });
    const delivery = await settled(store, "wh_lost");
    assert.equal(delivery.status, "failed");
    assert.match(delivery.last_error ?? "", /signing secret cannot be opened: it was sealed under another secret_key/);
    assert.equal(target.received.length, 0);
    assert.match(target.warnings.join("\n"), /webhook wh_lost .*cannot be opened/);
  } finally {
    await target.close();
  }
});
