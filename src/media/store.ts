import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";

/**
 * Where media bytes are kept: files in the data dir, or an S3-compatible
 * bucket. Every store passes the same conformance suite (store.test.ts).
 * Keys are made by the gateway (`images/<id>.<ext>`), never by a caller.
 */
export interface MediaStore {
  readonly kind: "disk" | "s3";
  put(key: string, bytes: Uint8Array, mime: string): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** The object's size in bytes, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** Removes the object; one that is not there is no error. */
  delete(key: string): Promise<void>;
  /**
   * A URL of the store's own that lets its holder GET the object (served as
   * `mime`) or PUT it, for `ttlSeconds`; undefined when the store has none
   * (the disk store: the gateway signs a URL to itself instead).
   */
  presign(method: "GET" | "PUT", key: string, mime: string, ttlSeconds: number): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Files under one folder, each written whole (to a temporary name, then renamed) so a reader never sees half of one. */
export class DiskMediaStore implements MediaStore {
  readonly kind = "disk";
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${randomBytes(6).toString("hex")}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return missingAsUndefined(readFile(this.pathOf(key)));
  }

  async size(key: string): Promise<number | undefined> {
    return (await missingAsUndefined(stat(this.pathOf(key))))?.size;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async presign(): Promise<undefined> {
    return undefined;
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`media key "${key}" leaves the media folder`);
    return path;
  }
}

async function missingAsUndefined<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
