import { Type, type Static } from "@sinclair/typebox";

/** Jan's ids are 30 characters; a little room for other writers of `jan_*`. */
export const MediaIdString = Type.String({ minLength: 1, maxLength: 64 });
const Ids = Type.Array(MediaIdString, { minItems: 1, maxItems: 100 });
/** A data URL of the largest upload, base64 encoded, fits; the request body limit applies first. */
const DATA_URL_MAX_CHARS = 1_500_000_000;

/** Jan's ingest request (`domain.IngestRequest`): a data URL or a remote URL; `user_id` is read from the credentials instead. */
export const UploadRequest = Type.Object(
  {
    source: Type.Object(
      {
        type: Type.Union(["data_url", "datauri", "dataurl", "remote_url", "remoteuri", "remote"].map((t) => Type.Literal(t)), { description: "data_url (with data_url) or remote_url (with url)" }),
        data_url: Type.Optional(Type.String({ maxLength: DATA_URL_MAX_CHARS, description: "data:<type>;base64,<data>" })),
        url: Type.Optional(Type.String({ maxLength: 2048, description: "An http(s) URL the gateway fetches" })),
      },
      { additionalProperties: false },
    ),
    filename: Type.Optional(Type.String({ maxLength: 255 })),
    user_id: Type.Optional(Type.String({ maxLength: 256, description: "Ignored: the media belongs to the caller" })),
  },
  { additionalProperties: false },
);
export type UploadRequest = Static<typeof UploadRequest>;

export const UploadAnswer = Type.Object({
  id: Type.String({ description: "jan_ and a lowercased ULID" }),
  mime: Type.String(),
  bytes: Type.Integer(),
  deduped: Type.Boolean({ description: "true when the caller had uploaded the same bytes before: that media is answered" }),
  presigned_url: Type.String({ description: "A signed URL serving the bytes until it expires (media.url_ttl_seconds)" }),
  url: Type.String({ description: "The same URL, under the name Jan's later versions use" }),
});

/** Jan's prepare-upload request: `mime_type` (its Go handler) or `content_type` (its README). */
export const PrepareRequest = Type.Object(
  {
    content_type: Type.Optional(Type.String({ maxLength: 128 })),
    mime_type: Type.Optional(Type.String({ maxLength: 128 })),
    filename: Type.Optional(Type.String({ maxLength: 255 })),
    user_id: Type.Optional(Type.String({ maxLength: 256, description: "Ignored: the media belongs to the caller" })),
  },
  { additionalProperties: false },
);
export type PrepareRequest = Static<typeof PrepareRequest>;

/** Jan's `UploadPreparation` (id, upload_url, mime_type, expires_in) with its README's names (jan_id, presigned_url) too. */
export const PrepareAnswer = Type.Object({
  id: Type.String(),
  jan_id: Type.String(),
  upload_url: Type.String({ description: "PUT the bytes here before it expires; the media exists once they pass the check" }),
  presigned_url: Type.String(),
  method: Type.Literal("PUT"),
  mime_type: Type.String(),
  expires_in: Type.Integer({ description: "seconds" }),
  expires_at: Type.String({ format: "date-time" }),
});

/** Jan's README: `ids` → `media`; its Go handler: a `payload` whose `data:<type>;jan_…` placeholders become URLs. */
export const ResolveRequest = Type.Object(
  {
    ids: Type.Optional(Ids),
    payload: Type.Optional(Type.Unknown({ description: "Any JSON; each data:<image type>;jan_… placeholder in it is replaced by a signed URL" })),
  },
  { additionalProperties: false },
);
export type ResolveRequest = Static<typeof ResolveRequest>;

const Resolved = Type.Object({ id: Type.String(), presigned_url: Type.String(), expires_at: Type.String({ format: "date-time" }) });
export const ResolveAnswer = Type.Object({ media: Type.Optional(Type.Array(Resolved)), payload: Type.Optional(Type.Unknown()) });

export const MediaView = Type.Object({
  id: Type.String(),
  mime: Type.String(),
  bytes: Type.Integer(),
  filename: Type.Optional(Type.String()),
  created_at: Type.String({ format: "date-time" }),
  presigned_url: Type.String(),
  expires_at: Type.String({ format: "date-time" }),
});

export const DeletedAnswer = Type.Object({ id: Type.String(), object: Type.Literal("media"), deleted: Type.Literal(true) });
export const BulkDeleteRequest = Type.Object({ ids: Ids }, { additionalProperties: false });
export type BulkDeleteRequest = Static<typeof BulkDeleteRequest>;
export const BulkDeleteAnswer = Type.Object({ deleted: Type.Array(Type.String()), not_found: Type.Array(Type.String()) });

export const MediaParams = Type.Object({ media_id: MediaIdString });
export const SignedQuery = Type.Object({
  expires: Type.Integer({ minimum: 0, maximum: 99_999_999_999, description: "Unix seconds" }),
  signature: Type.String({ minLength: 1, maxLength: 128 }),
});
