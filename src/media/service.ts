import { createHash } from "node:crypto";
import { FlotillaError } from "../kernel/index.js";
import type { MediaRepo, MediaRow } from "../store/index.js";
import { checkImage, fetchLink, tooLarge, type Fetcher } from "./content.js";
import { newMediaId } from "./ids.js";
import { IMAGE_TYPES } from "./sniff.js";
import type { UrlSigner } from "./signing.js";
import type { MediaStore } from "./store.js";

export interface MediaOptions {
  maxBytes: number;
  urlTtlSeconds: number;
  fetchTimeoutMs: number;
}

/** A URL that works until `expiresAt` (ms). */
export interface SignedUrl {
  url: string;
  expiresAt: number;
}

/**
 * Seed 002's media: uploads checked by their bytes, kept in one store,
 * handed out by `jan_*` id and short-lived signed URLs, and only ever to
 * their owner (anyone else is told there is no such media).
 */
export class MediaService {
  constructor(
    private readonly repo: MediaRepo,
    readonly store: MediaStore,
    private readonly fetcher: Fetcher,
    private readonly signer: UrlSigner,
    readonly options: MediaOptions,
  ) {}

  /** Keeps checked bytes for `owner`; the same bytes they uploaded before answer with that media (`deduped`). */
  async ingest(owner: string, bytes: Uint8Array, filename: string | undefined, param: string): Promise<{ row: MediaRow; deduped: boolean }> {
    const mime = checkImage(bytes, this.options.maxBytes, param);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const existing = await this.repo.findByHash(owner, sha256);
    if (existing) return { row: existing, deduped: true };
    const id = newMediaId();
    const row: MediaRow = { id, owner, status: "ready", mime, bytes: bytes.length, sha256, filename: filename ?? null, storage_key: keyOf(id, mime), upload_expires_at: null, created_at: Date.now() };
    await this.store.put(row.storage_key, bytes, mime);
    await this.repo.insert(row);
    return { row, deduped: false };
  }

  fetchLink(url: string, param: string): Promise<Uint8Array> {
    return fetchLink(this.fetcher, url, { maxBytes: this.options.maxBytes, timeoutMs: this.options.fetchTimeoutMs }, param);
  }

  /** Reserves an id and answers a signed URL to PUT its bytes to; the media exists once they have arrived and passed the check. */
  async prepareUpload(owner: string, mime: string, filename: string | undefined, base: string): Promise<{ row: MediaRow; upload: SignedUrl }> {
    if (!IMAGE_TYPES[mime]) throw new FlotillaError("invalid_request", `unsupported media type "${mime}": one of ${Object.keys(IMAGE_TYPES).join(", ")}`, { param: "content_type" });
    const id = newMediaId();
    const expiresAt = this.expiry();
    const row: MediaRow = { id, owner, status: "pending", mime, bytes: 0, sha256: null, filename: filename ?? null, storage_key: keyOf(id, mime), upload_expires_at: expiresAt, created_at: Date.now() };
    await this.repo.insert(row);
    return { row, upload: { url: await this.signedUrl("PUT", row, base, expiresAt), expiresAt } };
  }

  /** The bytes PUT to the gateway's own signed upload URL (the disk store). */
  async receiveUpload(id: string, bytes: Uint8Array): Promise<MediaRow> {
    const row = await this.repo.get(id);
    if (!row) throw notFound(id);
    if (row.status !== "pending") throw new FlotillaError("conflict", `media "${id}" has been uploaded already`);
    const mime = checkImage(bytes, this.options.maxBytes, "body");
    await this.store.put(row.storage_key, bytes, mime);
    return this.markReady(row, bytes, mime);
  }

  /** The owner's media, a presigned upload checked first if its bytes have arrived in the store meanwhile; anyone else's is not found. */
  async mine(id: string, owner: string, param = "media_id"): Promise<MediaRow> {
    const row = await this.repo.get(id);
    if (!row || row.owner !== owner) throw notFound(id, param);
    return row.status === "ready" ? row : this.settle(row, param);
  }

  async downloadUrl(row: MediaRow, base: string): Promise<SignedUrl> {
    const expiresAt = this.expiry();
    return { url: await this.signedUrl("GET", row, base, expiresAt), expiresAt };
  }

  async bytesOf(row: MediaRow): Promise<Uint8Array> {
    const bytes = await this.store.get(row.storage_key);
    if (!bytes) throw new FlotillaError("not_found", `the bytes of media "${row.id}" are missing from the media store`);
    return bytes;
  }

  /** Removes the owner's media (its row, then its bytes); false when they have none of that id. */
  async remove(id: string, owner: string): Promise<boolean> {
    const row = await this.repo.get(id);
    if (!row || row.owner !== owner || !(await this.repo.remove(id))) return false;
    await this.store.delete(row.storage_key);
    return true;
  }

  /** The row of a media id for the gateway's own signed URLs, whoever asks (the signature is the permission). */
  async forSignedUrl(id: string): Promise<MediaRow> {
    const row = await this.repo.get(id);
    if (!row) throw notFound(id);
    return row;
  }

  signatureProblem(method: "GET" | "PUT", id: string, expires: number, signature: string): string | undefined {
    return this.signer.problem(method, id, expires, signature);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** A presigned upload made straight to S3: checked when it is first asked for; refused bytes are removed. */
  private async settle(row: MediaRow, param: string): Promise<MediaRow> {
    const size = await this.store.size(row.storage_key);
    if (size === undefined) {
      if ((row.upload_expires_at ?? 0) <= Date.now()) await this.repo.remove(row.id);
      throw new FlotillaError("not_found", `media "${row.id}" has not been uploaded`, { param });
    }
    try {
      if (size > this.options.maxBytes) throw tooLarge(this.options.maxBytes, param);
      const bytes = await this.bytesOf(row);
      return await this.markReady(row, bytes, checkImage(bytes, this.options.maxBytes, param));
    } catch (err) {
      if (err instanceof FlotillaError && err.code !== "not_found") await this.store.delete(row.storage_key);
      throw err;
    }
  }

  private async markReady(row: MediaRow, bytes: Uint8Array, mime: string): Promise<MediaRow> {
    const ready = { mime, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    if (!(await this.repo.markReady(row.id, ready))) throw new FlotillaError("conflict", `media "${row.id}" has been uploaded already`);
    return { ...row, ...ready, status: "ready", upload_expires_at: null };
  }

  private async signedUrl(method: "GET" | "PUT", row: MediaRow, base: string, expiresAt: number): Promise<string> {
    const ttl = Math.max(1, Math.round((expiresAt - Date.now()) / 1000));
    const own = await this.store.presign(method, row.storage_key, row.mime, ttl);
    return own ?? `${base}/v1/media/${row.id}/content?${this.signer.query(method, row.id, Math.floor(expiresAt / 1000))}`;
  }

  /** Whole seconds, so the expiry a signature covers is the one answered. */
  private expiry(): number {
    return (Math.floor(Date.now() / 1000) + this.options.urlTtlSeconds) * 1000;
  }
}

/** `images/<id>.<ext>`, as Jan keys its objects. */
function keyOf(id: string, mime: string): string {
  return `images/${id}.${IMAGE_TYPES[mime] ?? "bin"}`;
}

export function notFound(id: string, param = "media_id"): FlotillaError {
  return new FlotillaError("not_found", `no media with id "${id}"`, { param });
}
