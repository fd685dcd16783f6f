import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** Test helper: a local S3-compatible server (s3rver) on a loopback port, with one bucket, in a temp dir removed on close. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

export const TEST_BUCKET = "flotilla-media";

export async function startTestS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "flotilla-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: TEST_BUCKET }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: TEST_BUCKET,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** s3rver's built-in credentials. */
export const TEST_S3_KEYS = { access_key_id: "S3RVER", secret_access_key: "S3RVER" };
