import { createHmac, randomBytes } from "node:crypto";
import { SEALED_PREFIX, type Sealer } from "../kernel/index.js";
import type { Store } from "../store/index.js";

/**
 * Standard Webhooks signatures, as OpenAI's webhooks sign (and the `openai`
 * client's `webhooks.verifySignature` checks): `webhook-signature:
 * v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, the
 * key being the bytes after `whsec_`.
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export function signatureHeaders(secret: string, eventId: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${eventId}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": eventId, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

/** Signing secrets stored as plain text before they were sealed are sealed once, at the first start that can. */
export async function sealPlainSigningSecrets(store: Pick<Store, "webhooks">, signingSecrets: Sealer): Promise<void> {
  for (const { id, secret } of await store.webhooks.secretsWithout(SEALED_PREFIX)) await store.webhooks.replaceSecret(id, secret, signingSecrets.seal(secret));
}
