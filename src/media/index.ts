import { join } from "node:path";
import type { Config } from "../config/index.js";
import type { OutboundGuard } from "../kernel/index.js";
import type { MediaRepo } from "../store/index.js";
import { openS3MediaStore } from "./s3-store.js";
import { MediaService } from "./service.js";
import { UrlSigner } from "./signing.js";
import { DiskMediaStore, type MediaStore } from "./store.js";

export { hasImagesToInline, inlineChatImages } from "./inline.js";
export { registerMediaRoutes } from "./routes.js";
export { MediaService } from "./service.js";
export { DiskMediaStore, type MediaStore } from "./store.js";
export { openS3MediaStore } from "./s3-store.js";

/** The media service as configured: its store (the data dir's `media/`, or S3), its limits, and URLs signed under the gateway's secret. */
export async function openMedia(config: Readonly<Config>, repo: MediaRepo, outbound: OutboundGuard, secret: string): Promise<MediaService> {
  const store: MediaStore = config.media.store === "s3" ? await openS3MediaStore(config.media.s3) : new DiskMediaStore(config.media.dir ?? join(config.data_dir, "media"));
  return new MediaService(repo, store, outbound, new UrlSigner(secret), {
    maxBytes: config.media.max_bytes,
    urlTtlSeconds: config.media.url_ttl_seconds,
    fetchTimeoutMs: config.media.fetch_timeout_ms,
  });
}
