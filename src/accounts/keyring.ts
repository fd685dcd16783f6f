import { timingSafeEqual } from "node:crypto";
import { hashKey, KEY_PREFIX } from "../kernel/credentials.js";
import type { Principal, Role, Scope } from "../kernel/principal.js";

export interface KeyRecord {
  id: string;
  hash: string;
  role: Role;
  user_id: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  scopes: readonly Scope[];
  daily_token_budget: number | null;
}

/** A key not found is not looked up again for this long (a key made on another replica is found after it). */
const MISS_TTL_MS = 5_000;
const MISSES_MAX = 10_000;

/**
 * The hashes of valid keys, held in memory so no request waits on the
 * database. A key it does not hold (made on another replica) is read once;
 * the gateway reloads it now and then, so revocations elsewhere reach it.
 */
export class Keyring {
  private readonly byHash = new Map<string, KeyRecord>();
  private readonly byId = new Map<string, KeyRecord>();
  private readonly misses = new Map<string, number>();
  /** Key ids used since the last drain, for a batched last_used_at update. */
  readonly used = new Set<string>();

  constructor(
    private readonly find?: (hash: string) => Promise<KeyRecord | undefined>,
    private readonly findById?: (id: string) => Promise<KeyRecord | undefined>,
  ) {}

  /** The gateway's own keys, never stored (the queue's runner): kept across reloads. */
  private readonly internal = new Map<string, KeyRecord>();

  load(records: KeyRecord[]): void {
    this.byHash.clear();
    this.byId.clear();
    this.misses.clear();
    for (const r of [...records, ...this.internal.values()]) this.hold(r);
  }

  /** A key the gateway gives itself for in-process calls; it lives as long as the process. */
  addInternal(record: KeyRecord): void {
    this.internal.set(record.hash, record);
    this.hold(record);
  }

  add(record: KeyRecord): void {
    this.hold(record);
    this.misses.delete(record.hash);
  }

  private hold(record: KeyRecord): void {
    this.byHash.set(record.hash, record);
    this.byId.set(record.id, record);
  }

  /** The key that queued a task, as the principal its run acts as; undefined once it is revoked or expired. */
  forTask(keyId: string): Principal | undefined | Promise<Principal | undefined> {
    const asTask = (record: KeyRecord | undefined) => {
      const principal = record && this.principal(record);
      if (principal) principal.forTask = true;
      return principal;
    };
    const held = this.byId.get(keyId);
    if (held || !this.findById) return asTask(held);
    return this.findById(keyId).then((found) => {
      if (found) this.add(found);
      return asTask(found);
    });
  }

  /** A user's keys stop working at once (the user was deleted). */
  revokeUser(userId: string, at = Date.now()): void {
    for (const record of this.byHash.values()) if (record.user_id === userId && record.revoked_at === null) record.revoked_at = at;
  }

  /** A user's keys carry the user's role. */
  setUserRole(userId: string, role: Role): void {
    for (const record of this.byHash.values()) if (record.user_id === userId) record.role = role;
  }

  verify(token: string): Principal | undefined | Promise<Principal | undefined> {
    const hash = hashKey(token);
    const record = this.byHash.get(hash);
    if (record) return sameHash(record.hash, hash) ? this.principal(record) : undefined;
    const now = Date.now();
    if (!this.find || !token.startsWith(KEY_PREFIX) || now - (this.misses.get(hash) ?? 0) < MISS_TTL_MS) return undefined;
    return this.find(hash).then((found) => {
      if (found) {
        this.add(found);
        return this.principal(found);
      }
      if (this.misses.size >= MISSES_MAX) this.misses.clear();
      this.misses.set(hash, now);
      return undefined;
    });
  }

  private principal(record: KeyRecord): Principal | undefined {
    if (record.revoked_at !== null || (record.expires_at !== null && record.expires_at <= Date.now())) return undefined;
    this.used.add(record.id);
    const principal: Principal = { via: "key", keyId: record.id, role: record.role, scopes: record.scopes };
    if (record.user_id !== null) principal.userId = record.user_id;
    if (record.daily_token_budget !== null) principal.dailyTokenBudget = record.daily_token_budget;
    return principal;
  }

  /** Revokes one key at once; false when it is not held. */
  revoke(id: string, at = Date.now()): boolean {
    const record = this.byId.get(id);
    if (record) record.revoked_at ??= at;
    return record !== undefined;
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
