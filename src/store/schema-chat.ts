/** The chat backend's tables (seed 002): media, conversations and their items, shares, projects, model catalogs. */

/** `pending`: made by a presigned upload whose bytes have not arrived (or not been checked) yet. */
export type MediaStatus = "pending" | "ready";

/** An uploaded media object (seed 002's `jan_*` id); its bytes live in the media store under `storage_key`. */
export interface MediaRow {
  id: string;
  /** `ownerOf` the uploader: a user id, or `key:<id>` for a key without one. */
  owner: string;
  status: MediaStatus;
  /** Found from the bytes (their magic numbers); the declared type while pending. */
  mime: string;
  /** 0 while pending. */
  bytes: number;
  sha256: string | null;
  filename: string | null;
  storage_key: string;
  /** When a pending upload's signed URL stops working. */
  upload_expires_at: number | null;
  created_at: number;
}
/** A conversation (seed 002). `owner` as for webhooks; `metadata` a JSON object of strings. */
export interface ConversationRow {
  id: string;
  owner: string;
  title: string | null;
  project_id: string | null;
  /** where the conversation was started from (Jan's `referrer` filter) */
  referrer: string | null;
  metadata: string;
  /** the position the next item appended takes */
  next_position: number;
  created_at: number;
  updated_at: number;
}

/** One item of a conversation: `body` is its JSON without id and time; MAIN is the branch shown. */
export interface ConversationItemRow {
  id: string;
  conversation_id: string;
  branch: string;
  position: number;
  type: string;
  role: string | null;
  call_id: string | null;
  body: string;
  created_at: number;
}

/** A public, read-only share: `snapshot` (JSON) is what was shared, as it was then; `options` the share's options (JSON). */
export interface ConversationShareRow {
  id: string;
  /** 22 random base62 characters (~131 bits): the public address */
  slug: string;
  owner: string;
  conversation_id: string;
  item_id: string | null;
  title: string | null;
  options: string;
  snapshot: string;
  view_count: number;
  last_viewed_at: number | null;
  revoked_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A project grouping conversations; soft-deleted (deleted_at) projects are gone from every read. */
export interface ProjectRow {
  id: string;
  owner: string;
  name: string;
  instruction: string | null;
  /** 0 or 1 */
  favorite: number;
  archived_at: number | null;
  deleted_at: number | null;
  created_at: number;
  updated_at: number;
}

/** An admin's changes to one model across the fleet (a catalog entry), by model key; `edits` is JSON. */
export interface ModelCatalogRow {
  model_key: string;
  /** The model's name as the fleet spelled it when the row was written. */
  name: string;
  edits: string;
  /** 1 once an admin changed its fields (Jan's status `updated`), not only its active flag. */
  edited: number;
  active: number;
  created_at: number;
  updated_at: number;
}

/** An admin's changes to one model on one node (a provider model); `edits` is JSON. */
export interface ProviderModelRow {
  id: string;
  node: string;
  model_key: string;
  /** The model's name as the node spells it. */
  name: string;
  edits: string;
  active: number;
  created_at: number;
  updated_at: number;
}
