import type { S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../config/index.js";
import type { MediaStore } from "./store.js";

type S3Config = Readonly<Config["media"]["s3"]>;
type S3Sdk = typeof import("@aws-sdk/client-s3");
type Presigner = typeof import("@aws-sdk/s3-request-presigner");

/**
 * An S3-compatible bucket. The SDK is loaded only when this store is
 * configured. Checksums are sent and checked only where S3 requires them:
 * the SDK's default (CRC32 on every upload) is not understood by every
 * S3-compatible server.
 */
export async function openS3MediaStore(config: S3Config): Promise<MediaStore> {
  const sdk = await import("@aws-sdk/client-s3");
  const presigner = await import("@aws-sdk/s3-request-presigner");
  const client = new sdk.S3Client({
    region: config.region,
    forcePathStyle: config.force_path_style,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.access_key_id && config.secret_access_key ? { credentials: { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key } } : {}),
  });
  return new S3MediaStore(sdk, presigner, client, config.bucket ?? "", config.prefix);
}

class S3MediaStore implements MediaStore {
  readonly kind = "s3";

  constructor(
    private readonly sdk: S3Sdk,
    private readonly presigner: Presigner,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: bytes, ContentType: mime }));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const answer = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const answer = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return answer.ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }

  /** A GET is served as the type found in the bytes, whatever the uploader's PUT said; a PUT may send any type (the bytes are checked after). */
  presign(method: "GET" | "PUT", key: string, mime: string, ttlSeconds: number): Promise<string> {
    const Key = this.prefix + key;
    const command = method === "GET" ? new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key, ResponseContentType: mime }) : new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key });
    return this.presigner.getSignedUrl(this.client, command, { expiresIn: ttlSeconds });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}
