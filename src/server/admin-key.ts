import { randomUUID } from "node:crypto";
import type { Store } from "../store/index.js";
import { generateKey, hashKey, type KeyRecord } from "./auth.js";

const CONFIGURED = "admin (FLOTILLA_ADMIN_KEY)";
const GENERATED = "admin (generated at first start)";

/**
 * The configured admin key is kept (hashed) as a key row, replacing an older
 * configured one. With none configured and no admin key stored, one is made;
 * its only copy is returned here, to be printed once.
 */
export async function ensureAdminKey(store: Store, configured: string | undefined): Promise<{ generated?: string }> {
  const now = Date.now();
  const rows = await store.apiKeys.list();
  const activeAdmins = rows.filter((r) => r.role === "admin" && r.revoked_at === null);
  if (configured) {
    const hash = hashKey(configured);
    for (const row of activeAdmins) if (row.name === CONFIGURED && row.hash !== hash) await store.apiKeys.revoke(row.id);
    if (!rows.some((r) => r.hash === hash)) await insertAdmin(store, configured, CONFIGURED, now);
    return {};
  }
  if (activeAdmins.length > 0) return {};
  const key = generateKey();
  await insertAdmin(store, key, GENERATED, now);
  return { generated: key };
}

async function insertAdmin(store: Store, key: string, name: string, now: number): Promise<void> {
  await store.apiKeys.insert({
    id: `key_${randomUUID().replace(/-/g, "")}`,
    name,
    prefix: key.slice(0, 12),
    hash: hashKey(key),
    role: "admin",
    scopes: JSON.stringify(["inference", "admin"]),
    created_at: now,
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
    user_id: null,
  });
}

export async function loadKeys(store: Store): Promise<KeyRecord[]> {
  return (await store.apiKeys.list()).map((r) => ({
    id: r.id,
    hash: r.hash,
    role: r.role === "admin" ? "admin" : "user",
    user_id: r.user_id,
    expires_at: r.expires_at,
    revoked_at: r.revoked_at,
  }));
}
