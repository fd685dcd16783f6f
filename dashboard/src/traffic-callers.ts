import { useApi } from "./hooks.js";

interface Users {
  users: Array<{ id: string; username: string; display_name: string | null }>;
}
interface Keys {
  items: Array<{ id: string; name: string }>;
}

export interface Callers {
  /** Who made a request, by name where the page knows it: the user, else the key's name or id, and the calling service. */
  name(who: { key_id: string | null; user_id?: string | null; source?: string | null }): string;
  users: Users["users"];
}

/**
 * Names for the ids the audit log carries: every user (/api/users, admin) and the signed-in
 * user's own keys (/auth/api-keys; there is no API listing other users' keys, so those show by id).
 */
export function useCallers(): Callers {
  const users = useApi<Users>("/api/users").data?.users ?? [];
  const keys = useApi<Keys>("/auth/api-keys").data?.items ?? [];
  const userNames = new Map(users.map((u) => [u.id, u.username]));
  const keyNames = new Map(keys.map((k) => [k.id, k.name]));
  return {
    users,
    name({ key_id, user_id, source }) {
      const user = user_id ? (userNames.get(user_id) ?? user_id) : undefined;
      const key = key_id ? keyNames.get(key_id) : undefined;
      const who = [user ?? (key ? undefined : key_id), key && `key ${key}`, source].filter(Boolean).join(" · ");
      return who || "–";
    },
  };
}
