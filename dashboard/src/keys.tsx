import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { when } from "./format.js";
import { KeyShownOnce } from "./key-once.js";

/** An API key as /auth/api-keys lists it (src/accounts/key-routes.ts KeyView); `key` only in the answer that makes it. */
interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: "active" | "expired" | "revoked";
  created_at: string;
  last_used_at: string | null;
  key?: string;
}

function NewKey({ admin, onMade }: { admin: boolean; onMade: (key: KeyView) => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = (form.elements.namedItem("name") as HTMLInputElement).value.trim();
    const withAdmin = admin && (form.elements.namedItem("admin-scope") as HTMLInputElement).checked;
    try {
      onMade(await api<KeyView>("/auth/api-keys", { method: "POST", body: { name, scopes: withAdmin ? ["inference", "admin"] : ["inference"] } }));
      form.reset();
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card stack" onSubmit={submit} aria-label="Make an API key">
      <label>
        Name
        <input name="name" required maxLength={128} placeholder="laptop, CI, …" />
      </label>
      {admin && (
        <label class="check">
          <input type="checkbox" name="admin-scope" /> Admin scope too (the key can manage the gateway)
        </label>
      )}
      <button type="submit" class="primary">
        Make the key
      </button>
      <Alert text={error} />
    </form>
  );
}

export function Keys({ admin, hasUser }: { admin: boolean; hasUser: boolean }) {
  const [keys, setKeys] = useState<KeyView[]>();
  const [made, setMade] = useState<KeyView>();
  const [error, setError] = useState<string>();
  const load = () => api<{ items: KeyView[] }>("/auth/api-keys").then((r) => setKeys(r.items), (err: Error) => setError(err.message));
  useEffect(() => void load(), []);

  const revoke = async (key: KeyView) => {
    if (!confirm(`Revoke the key "${key.name}"? Whatever uses it stops working at once.`)) return;
    await api(`/auth/api-keys/${encodeURIComponent(key.id)}`, { method: "DELETE" }).catch((err: Error) => setError(err.message));
    await load();
  };

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {!hasUser && <p class="muted">You are signed in with a key that belongs to no user (such as the admin key from the first start): keys made here belong to a user, so sign in with an account to make them.</p>}
      <Alert text={error} />
      {made?.key && <KeyShownOnce name={made.name} secret={made.key} onDone={() => setMade(undefined)} />}
      {hasUser && (
        <NewKey
          admin={admin}
          onMade={(key) => {
            setMade(key);
            void load();
          }}
        />
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Status</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((key) => (
              <tr key={key.id} data-key={key.id}>
                <td>{key.name}</td>
                <td class="mono">{key.prefix}…</td>
                <td>{key.scopes.join(", ")}</td>
                <td>{key.status}</td>
                <td>{when(key.last_used_at)}</td>
                <td>
                  {key.status === "active" && (
                    <button type="button" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {keys?.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No keys yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
