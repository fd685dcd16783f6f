import { useState } from "preact/hooks";
import { api, type Me } from "./api.js";
import { Alert } from "./controls.js";
import { when } from "./format.js";
import { useApi } from "./hooks.js";
import { KeyShownOnce } from "./key-once.js";
import "./users.css";

type Role = "admin" | "user" | "guest";
const ROLES: Role[] = ["user", "admin", "guest"];

/** A user as /api/users lists them (src/accounts/users.ts UserView). */
interface UserView {
  id: string;
  username: string;
  display_name: string | null;
  email: string | null;
  role: Role;
  created_at: string;
  last_login_at: string | null;
}

/** The answer of POST /api/users/{id}/api-key (src/accounts/routes.ts CreatedKey): `key` is in this answer only. */
interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  name: string;
  user_id: string;
  created_at: string;
}

const field = (form: HTMLFormElement, name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;

function RoleSelect({ value }: { value: Role }) {
  return (
    <select name="role">
      {ROLES.map((role) => (
        <option value={role} selected={role === value}>
          {role}
        </option>
      ))}
    </select>
  );
}

function NewUser({ onMade }: { onMade: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const displayName = field(form, "display_name").trim();
    const password = field(form, "password");
    const body = { username: field(form, "username").trim(), role: field(form, "role"), ...(displayName ? { display_name: displayName } : {}), ...(password ? { password } : {}) };
    try {
      await api("/api/users", { method: "POST", body });
      form.reset();
      setError(undefined);
      onMade();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card user-form" onSubmit={submit} aria-label="Add a user">
      <h3>Add a user</h3>
      <label>
        Username
        <input name="username" required maxLength={64} pattern="[A-Za-z0-9._@+\-]+" autocomplete="off" />
      </label>
      <label>
        Display name
        <input name="display_name" maxLength={128} autocomplete="off" />
      </label>
      <label>
        Password
        <input name="password" type="password" minLength={8} maxLength={256} autocomplete="new-password" placeholder="none: key or single sign-on only" />
      </label>
      <label>
        Role
        <RoleSelect value="user" />
      </label>
      <button type="submit" class="primary">
        Add the user
      </button>
      <Alert text={error} />
    </form>
  );
}

/** Changes what was changed: the display name (empty clears it), the role, a new password when one is typed. */
function EditUser({ user, onSaved, onCancel }: { user: UserView; onSaved: () => void; onCancel: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const displayName = field(form, "display_name").trim() || null;
    const role = field(form, "role") as Role;
    const password = field(form, "password");
    const body = {
      ...(displayName !== user.display_name ? { display_name: displayName } : {}),
      ...(role !== user.role ? { role } : {}),
      ...(password ? { password } : {}),
    };
    try {
      if (Object.keys(body).length > 0) await api(`/api/users/${encodeURIComponent(user.id)}`, { method: "PUT", body });
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card user-form" onSubmit={submit} aria-label={`Change ${user.username}`}>
      <h3>Change {user.username}</h3>
      <label>
        Display name
        <input name="display_name" maxLength={128} autocomplete="off" defaultValue={user.display_name ?? ""} />
      </label>
      <label>
        Role
        <RoleSelect value={user.role} />
      </label>
      <label>
        New password
        <input name="password" type="password" minLength={8} maxLength={256} autocomplete="new-password" placeholder="unchanged" />
      </label>
      <div class="user-form-buttons">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <Alert text={error} />
    </form>
  );
}

export function Users({ me }: { me: Me }) {
  const { data, error: loadError, reload } = useApi<{ users: UserView[] }>("/api/users");
  const [editing, setEditing] = useState<string>();
  const [made, setMade] = useState<CreatedKey & { username: string }>();
  const [error, setError] = useState<string>();
  const users = data?.users;
  const edited = users?.find((u) => u.id === editing);

  const act = async (work: () => Promise<void>) => {
    setError(undefined);
    await work().catch((err: Error) => setError(err.message));
    reload();
  };
  const makeKey = (user: UserView) =>
    act(async () => setMade({ ...(await api<CreatedKey>(`/api/users/${encodeURIComponent(user.id)}/api-key`, { method: "POST" })), username: user.username }));
  const remove = (user: UserView) => {
    if (!confirm(`Delete the user "${user.username}"? Their sessions and API keys stop working at once.`)) return;
    void act(async () => {
      await api(`/api/users/${encodeURIComponent(user.id)}`, { method: "DELETE" });
      if (editing === user.id) setEditing(undefined);
    });
  };

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <p class="muted">
        A key made here belongs to the user and acts with their role, as it changes. Deleting a user ends their sessions and keys.
      </p>
      <Alert text={error ?? loadError} />
      {made && <KeyShownOnce name={`${made.name} (for ${made.username})`} secret={made.key} onDone={() => setMade(undefined)} />}
      {edited && (
        <EditUser
          key={edited.id}
          user={edited}
          onCancel={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            reload();
          }}
        />
      )}
      <div class="table-wrap users-wrap">
        <table class="users">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Display name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users?.map((user) => (
              <tr key={user.id} data-user={user.id}>
                <td>
                  {user.username}
                  {me.user?.id === user.id && <span class="muted"> (you)</span>}
                </td>
                <td class="display-name">{user.display_name ?? ""}</td>
                <td>{user.role}</td>
                <td>{when(user.created_at)}</td>
                <td>{when(user.last_login_at)}</td>
                <td>
                  <div class="user-actions">
                    <button type="button" onClick={() => setEditing(user.id)} aria-label={`Change ${user.username}`}>
                      Change
                    </button>
                    <button type="button" onClick={() => void makeKey(user)} aria-label={`Make a key for ${user.username}`}>
                      Make a key
                    </button>
                    <button type="button" onClick={() => remove(user)} aria-label={`Delete ${user.username}`}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
            {users?.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No users yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <NewUser onMade={reload} />
    </section>
  );
}
