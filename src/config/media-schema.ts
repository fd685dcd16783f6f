import { Type } from "@sinclair/typebox";

const MIB = 1024 * 1024;

/** Seed 002's media uploads (`jan_*` ids): where their bytes are kept, how large they may be, how long their URLs last. */
export const MediaSchema = Type.Object(
  {
    /** `disk`: files under `dir`; `s3`: an S3-compatible bucket (`media.s3`). */
    store: Type.Union([Type.Literal("disk"), Type.Literal("s3")], { default: "disk" }),
    /** The disk store's folder; `<data_dir>/media` when not set. */
    dir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** The largest upload, checked on the bytes themselves (Jan's MEDIA_MAX_BYTES). */
    max_bytes: Type.Integer({ minimum: 1024, maximum: 1024 * MIB, default: 20 * MIB }),
    /** How long a signed download or upload URL works (Jan's MEDIA_S3_PRESIGN_TTL: 5 minutes). */
    url_ttl_seconds: Type.Integer({ minimum: 1, maximum: 604_800, default: 300 }),
    /** Fetching an upload's `remote_url`, or a chat message's image link (Jan's MEDIA_REMOTE_FETCH_TIMEOUT). */
    fetch_timeout_ms: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000 }),
    /** The gateway's address as clients reach it, for the disk store's signed URLs; the request's own Host when not set. */
    public_url: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
    s3: Type.Object(
      {
        /** An S3-compatible endpoint (MinIO, R2, …); AWS's own when not set. */
        endpoint: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
        region: Type.String({ minLength: 1, maxLength: 64, default: "us-east-1" }),
        bucket: Type.Optional(Type.String({ minLength: 3, maxLength: 63 })),
        /** Without both keys the SDK's own chain is used (env, instance role). */
        access_key_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        secret_access_key: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        /** Path-style URLs (endpoint/bucket/key), as MinIO and most self-hosted stores want. */
        force_path_style: Type.Boolean({ default: false }),
        /** Put before every object key, e.g. `flotilla/`. */
        prefix: Type.String({ maxLength: 256, default: "" }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
