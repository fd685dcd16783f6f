import { useState } from "preact/hooks";
import { api, ApiError, saveKey } from "./api.js";
import { Alert } from "./controls.js";

interface Props {
  /** No account exists yet: the first form creates the admin. */
  setup: boolean;
  problem?: string;
  onSignedIn: () => void;
}

function fieldValue(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement).value;
}

export function SignIn({ setup, problem, onSignedIn }: Props) {
  const [error, setError] = useState(problem);
  const [busy, setBusy] = useState(false);

  const submitAccount = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const username = fieldValue(form, "username");
    const password = fieldValue(form, "password");
    setBusy(true);
    try {
      saveKey(null);
      await api(setup ? "/api/auth/setup" : "/api/auth/login", { method: "POST", body: { username, password } });
      onSignedIn();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const submitKey = async (event: SubmitEvent) => {
    event.preventDefault();
    const key = fieldValue(event.currentTarget as HTMLFormElement, "key").trim();
    saveKey(key);
    try {
      await api("/api/auth/me");
      onSignedIn();
    } catch (err) {
      saveKey(null);
      setError(err instanceof ApiError && err.status === 401 ? "That API key is not valid." : (err as Error).message);
    }
  };

  return (
    <main class="narrow">
      <h1>{setup ? "Welcome to Flotilla" : "Sign in to Flotilla"}</h1>
      {setup && <p>No account exists yet. Create the admin account: it can do everything, including making more users.</p>}
      <Alert text={error} />
      <form class="card stack" onSubmit={submitAccount} aria-label={setup ? "Create the admin" : "Sign in"}>
        <label>
          Username
          <input name="username" autocomplete="username" required maxLength={64} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete={setup ? "new-password" : "current-password"} required minLength={setup ? 8 : 1} maxLength={256} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {setup ? "Create the admin" : "Sign in"}
        </button>
      </form>
      <form class="card stack" onSubmit={submitKey} aria-label="Use an API key">
        <label>
          Or use an API key, such as the admin key printed at the first start (kept in this tab only)
          <input name="key" type="password" autocomplete="off" required maxLength={256} />
        </label>
        <button type="submit">Use the key</button>
      </form>
    </main>
  );
}
