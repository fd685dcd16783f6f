import { randomUUID } from "node:crypto";
import type { ApiKeyRow, KeyRole, Store } from "../store/index.js";
import { generateKey, hashKey, type Scope } from "../kernel/index.js";
import type { KeyRecord } from "./keyring.js";

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
  await store.apiKeys.insert(newKeyRow(key, { name, role: "admin", userId: null, now }));
}

/** The stored form of a new key: its hash and a recognisable prefix, never the key. */
export function newKeyRow(
  key: string,
  fields: { name: string; role: KeyRole; userId: string | null; now: number; scopes?: Scope[]; expiresAt?: number | null; dailyTokenBudget?: number | null },
): ApiKeyRow {
  return {
    id: `key_${randomUUID().replace(/-/g, "")}`,
    name: fields.name,
    prefix: key.slice(0, 12),
    hash: hashKey(key),
    role: fields.role,
    scopes: JSON.stringify(fields.scopes ?? (fields.role === "admin" ? ["inference", "admin"] : ["inference"])),
    created_at: fields.now,
    expires_at: fields.expiresAt ?? null,
    last_used_at: null,
    revoked_at: null,
    user_id: fields.userId,
    daily_token_budget: fields.dailyTokenBudget ?? null,
  };
}

/** What the keyring holds of a stored key. */
export function keyRecord(row: ApiKeyRow): KeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    role: row.role === "admin" ? "admin" : "user",
    user_id: row.user_id,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    scopes: keyScopes(row),
    daily_token_budget: row.daily_token_budget,
  };
}

export function keyScopes(row: ApiKeyRow): Scope[] {
  const parsed = JSON.parse(row.scopes) as unknown;
  return Array.isArray(parsed) ? parsed.filter((s): s is Scope => s === "inference" || s === "admin") : [];
}

export async function loadKeys(store: Store): Promise<KeyRecord[]> {
  return (await store.apiKeys.list()).map(keyRecord);
}
