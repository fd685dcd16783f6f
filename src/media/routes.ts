import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, ownerOf } from "../kernel/index.js";
import type { MediaRow } from "../store/index.js";
import { decodeDataUrl, tooLarge } from "./content.js";
import { resolvePayload } from "./resolve.js";
import {
  BulkDeleteAnswer,
  BulkDeleteRequest,
  DeletedAnswer,
  MediaParams,
  MediaView,
  PrepareAnswer,
  PrepareRequest,
  ResolveAnswer,
  ResolveRequest,
  SignedQuery,
  UploadAnswer,
  UploadRequest,
} from "./schemas.js";
import { notFound, type MediaService } from "./service.js";

const tags = ["media"];
const iso = (ms: number) => new Date(ms).toISOString();
type Params = { media_id: string };
type Signed = { expires: number; signature: string };

/**
 * Seed 002's Media API with Jan's shapes: upload (a data URL or a link),
 * presigned upload, resolve, metadata, delete. Every media id is its
 * uploader's; anyone else is told there is no such media.
 */
export function registerMediaRoutes(app: FastifyInstance, media: MediaService, publicUrl: string | undefined): void {
  // Signed-in callers only (guests too, as Jan's guest tokens upload): there is always an owner.
  const ownerFor = (req: FastifyRequest) => ownerOf(req.principal) ?? "anonymous";
  const baseOf = (req: FastifyRequest) => publicUrl?.replace(/\/+$/, "") ?? `${req.protocol}://${req.host}`;
  const signedIn = { auth: "user" as const };

  async function uploadMedia(req: FastifyRequest) {
    const { source, filename } = req.body as UploadRequest;
    const remote = source.type.startsWith("remote");
    const given = remote ? source.url : source.data_url;
    if (!given) throw new FlotillaError("invalid_request", remote ? "source.url is required for a remote_url source" : "source.data_url is required for a data_url source", { param: remote ? "source.url" : "source.data_url" });
    const bytes = remote ? await media.fetchLink(given, "source.url") : decodeDataUrl(given, media.options.maxBytes, "source.data_url");
    const { row, deduped } = await media.ingest(ownerFor(req), bytes, filename, "source");
    const { url } = await media.downloadUrl(row, baseOf(req));
    return { id: row.id, mime: row.mime, bytes: row.bytes, deduped, presigned_url: url, url };
  }
  const upload = { schema: { summary: "Upload an image from a data URL or a link; its type and size are checked on its bytes", tags, body: UploadRequest, response: { 200: UploadAnswer } }, config: { ...signedIn, body: "inference" as const } };
  app.post("/v1/media/upload", upload, uploadMedia);
  app.post("/v1/media", { ...upload, schema: { ...upload.schema, summary: "Upload an image (Jan's ingest path)" } }, uploadMedia);

  async function prepareUpload(req: FastifyRequest) {
    const body = req.body as PrepareRequest;
    const mime = body.content_type ?? body.mime_type;
    if (!mime) throw new FlotillaError("invalid_request", "content_type (or mime_type) is required", { param: "content_type" });
    const { row, upload } = await media.prepareUpload(ownerFor(req), mime, body.filename, baseOf(req));
    const expiresIn = Math.round((upload.expiresAt - Date.now()) / 1000);
    return { id: row.id, jan_id: row.id, upload_url: upload.url, presigned_url: upload.url, method: "PUT" as const, mime_type: row.mime, expires_in: expiresIn, expires_at: iso(upload.expiresAt) };
  }
  const prepare = { schema: { summary: "Reserve a jan_* id and get a signed URL to PUT the image to", tags, body: PrepareRequest, response: { 200: PrepareAnswer } }, config: signedIn };
  app.post("/v1/media/upload-presigned", prepare, prepareUpload);
  app.post("/v1/media/prepare-upload", { ...prepare, schema: { ...prepare.schema, summary: "Reserve a jan_* id for an upload (Jan's path)" } }, prepareUpload);

  app.post(
    "/v1/media/resolve",
    { schema: { summary: "Signed, expiring URLs for jan_* ids (ids), or a payload with its jan_* placeholders replaced by them", tags, body: ResolveRequest, response: { 200: ResolveAnswer } }, config: signedIn },
    async function resolveMedia(req) {
      const { ids, payload } = req.body as ResolveRequest;
      if (ids === undefined && payload === undefined) throw new FlotillaError("invalid_request", "give ids (a list of jan_* ids) or a payload", { param: "ids" });
      const owner = ownerFor(req);
      const urlOf = async (id: string, param: string) => media.downloadUrl(await media.mine(id, owner, param), baseOf(req));
      const answer: { media?: Array<{ id: string; presigned_url: string; expires_at: string }>; payload?: unknown } = {};
      if (ids) {
        answer.media = [];
        for (const [i, id] of ids.entries()) {
          const { url, expiresAt } = await urlOf(id, `ids[${i}]`);
          answer.media.push({ id, presigned_url: url, expires_at: iso(expiresAt) });
        }
      }
      if (payload !== undefined) answer.payload = await resolvePayload(payload, async (id) => (await urlOf(id, "payload")).url);
      return answer;
    },
  );

  app.post(
    "/v1/media/bulk-delete",
    { schema: { summary: "Delete several of the caller's media", tags, body: BulkDeleteRequest, response: { 200: BulkDeleteAnswer } }, config: signedIn },
    async function bulkDeleteMedia(req) {
      const owner = ownerFor(req);
      const answer = { deleted: [] as string[], not_found: [] as string[] };
      for (const id of new Set((req.body as BulkDeleteRequest).ids)) (await media.remove(id, owner) ? answer.deleted : answer.not_found).push(id);
      return answer;
    },
  );

  app.get(
    "/v1/media/:media_id",
    { schema: { summary: "A media's metadata and a signed URL to its bytes", tags, params: MediaParams, response: { 200: MediaView } }, config: signedIn },
    async function getMedia(req) {
      const row = await media.mine((req.params as Params).media_id, ownerFor(req));
      const { url, expiresAt } = await media.downloadUrl(row, baseOf(req));
      return { id: row.id, mime: row.mime, bytes: row.bytes, ...(row.filename ? { filename: row.filename } : {}), created_at: iso(row.created_at), presigned_url: url, expires_at: iso(expiresAt) };
    },
  );

  app.delete(
    "/v1/media/:media_id",
    { schema: { summary: "Delete a media: its record and its bytes", tags, params: MediaParams, response: { 200: DeletedAnswer } }, config: signedIn },
    async function deleteMedia(req) {
      const id = (req.params as Params).media_id;
      if (!(await media.remove(id, ownerFor(req)))) throw notFound(id);
      return { id, object: "media" as const, deleted: true as const };
    },
  );

  registerSignedRoutes(app, media, baseOf);
}

/** The disk store's signed URLs, at the gateway itself: the signature (method, id, expiry) is the permission. */
function registerSignedRoutes(app: FastifyInstance, media: MediaService, baseOf: (req: FastifyRequest) => string): void {
  const checked = async (req: FastifyRequest, method: "GET" | "PUT"): Promise<MediaRow> => {
    const { media_id: id } = req.params as Params;
    const { expires, signature } = req.query as Signed;
    const problem = media.signatureProblem(method, id, expires, signature);
    if (problem) throw new FlotillaError("forbidden", `${problem}: ask for a new one`, { param: "signature" });
    return media.forSignedUrl(id);
  };
  const schema = { tags, params: MediaParams, querystring: SignedQuery };

  app.get(
    "/v1/media/:media_id/content",
    { schema: { ...schema, summary: "A media's bytes, through a signed URL (the disk store)" }, config: { auth: "public" } },
    async function mediaContent(req, reply) {
      const row = await checked(req, "GET");
      if (row.status !== "ready") throw notFound(row.id);
      const bytes = await media.bytesOf(row);
      return reply.header("content-type", row.mime).header("cache-control", "private, max-age=300").header("x-content-type-options", "nosniff").send(Buffer.from(bytes));
    },
  );

  app.put(
    "/v1/media/:media_id/content",
    { schema: { ...schema, summary: "Upload a media's bytes to a signed URL from upload-presigned (the disk store)", response: { 200: UploadAnswer } }, config: { auth: "public", body: "upload" } },
    async function putMediaContent(req, reply) {
      await checked(req, "PUT");
      const bytes = await readAtMost(req.body as NodeJS.ReadableStream | undefined, media.options.maxBytes);
      const row = await media.receiveUpload((req.params as Params).media_id, bytes);
      const { url } = await media.downloadUrl(row, baseOf(req));
      return reply.send({ id: row.id, mime: row.mime, bytes: row.bytes, deduped: false, presigned_url: url, url });
    },
  );
}

/** The body's bytes, refused with a 413 (the rest read and dropped) once over `maxBytes`. */
async function readAtMost(body: NodeJS.ReadableStream | undefined, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.resume();
      throw tooLarge(maxBytes, "body");
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
