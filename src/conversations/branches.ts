import { unixSeconds } from "../kernel/index.js";
import type { ConversationRow, Store } from "../store/index.js";
import { MAIN_BRANCH } from "../store/index.js";
import type { BranchView } from "./schema.js";

/** Where an edit, a regenerate or an item delete keeps the old MAIN: `MAIN_YYYYMMDDHHMMSS` (UTC), as Jan names it. */
export function editBranchName(now: number): string {
  return `${MAIN_BRANCH}_${new Date(now).toISOString().replace(/\D/g, "").slice(0, 14)}`;
}

/** Jan's view of a conversation's MAIN branch after a fork made it anew. */
export async function mainBranchView(store: Pick<Store, "conversations">, conversation: ConversationRow, now: number): Promise<BranchView> {
  const count = await store.conversations.countItems(conversation.id, MAIN_BRANCH);
  return { name: MAIN_BRANCH, item_count: count, created_at: unixSeconds(now), updated_at: unixSeconds(now), is_active: true };
}
