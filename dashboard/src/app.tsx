import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, saveKey, savedKey, send, type Me } from "./api.js";
import { Catalog } from "./catalog.js";
import { Fleet } from "./fleet.js";
import { Keys } from "./keys.js";
import { Models } from "./models.js";
import { Notifications } from "./notifications.js";
import { Playground } from "./playground.js";
import { Queues } from "./queues.js";
import { Schedules } from "./schedules.js";
import { SignIn } from "./sign-in.js";
import { Traffic } from "./traffic.js";
import { Users } from "./users.js";

type Screen = { kind: "loading" } | { kind: "setup" } | { kind: "login"; problem?: string } | { kind: "in"; me: Me };

/** What every page is given: who is signed in. */
interface PageProps {
  me: Me;
  admin: boolean;
}

/**
 * The pages, in the navigation's order: one entry each. `adminOnly` pages call admin APIs,
 * so they are not offered to other users (the APIs would refuse them anyway).
 */
const PAGES: Array<{ path: string; title: string; adminOnly?: boolean; view: (props: PageProps) => JSX.Element }> = [
  { path: "/dashboard", title: "Fleet", view: ({ admin }) => <Fleet admin={admin} /> },
  { path: "/dashboard/models", title: "Models", view: ({ admin }) => <Models admin={admin} /> },
  { path: "/dashboard/playground", title: "Playground", view: () => <Playground /> },
  { path: "/dashboard/keys", title: "API keys", view: ({ me, admin }) => <Keys admin={admin} hasUser={me.user !== null} /> },
  { path: "/dashboard/catalog", title: "Catalog", adminOnly: true, view: () => <Catalog /> },
  { path: "/dashboard/users", title: "Users", adminOnly: true, view: ({ me }) => <Users me={me} /> },
  { path: "/dashboard/notifications", title: "Notifications", view: ({ me, admin }) => <Notifications admin={admin} guest={me.role === "guest"} /> },
  { path: "/dashboard/traffic", title: "Traffic", adminOnly: true, view: () => <Traffic /> },
  { path: "/dashboard/queues", title: "Queues", adminOnly: true, view: () => <Queues /> },
  { path: "/dashboard/schedules", title: "Schedules", adminOnly: true, view: () => <Schedules /> },
];

function pageOf(pathname: string): string {
  return PAGES.find((p) => p.path !== "/dashboard" && pathname.startsWith(p.path))?.path ?? "/dashboard";
}

/** Who is signed in: the saved key or the session cookie; else whether setup or login comes first. */
async function whoAmI(): Promise<Screen> {
  try {
    return { kind: "in", me: await api<Me>("/api/auth/me") };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    const problem = savedKey() ? "The saved API key is not valid any more." : undefined;
    saveKey(null);
    const { required } = await api<{ required: boolean }>("/api/auth/setup");
    return required ? { kind: "setup" } : { kind: "login", problem };
  }
}

export function App() {
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });
  const [page, setPage] = useState<string>(pageOf(location.pathname));
  const [failure, setFailure] = useState<string>();

  const refresh = () => whoAmI().then(setScreen, (err: Error) => setFailure(err.message));
  useEffect(() => {
    void refresh();
    const onPop = () => setPage(pageOf(location.pathname));
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  const go = (path: string) => (event: MouseEvent) => {
    event.preventDefault();
    history.pushState(null, "", path);
    setPage(path);
    // Keyboard and screen-reader users land on the new page, not back at the top of the navigation.
    document.getElementById("content")?.focus();
  };
  const signOut = async () => {
    if (!savedKey()) await send("/api/auth/logout", { method: "POST" }).catch(() => undefined);
    saveKey(null);
    setScreen({ kind: "login" });
  };

  if (failure) return <main class="narrow"><p role="alert" class="error">The gateway did not answer: {failure}</p></main>;
  if (screen.kind === "loading") return <main class="narrow"><p aria-live="polite">Loading…</p></main>;
  if (screen.kind !== "in") return <SignIn setup={screen.kind === "setup"} problem={screen.kind === "login" ? screen.problem : undefined} onSignedIn={refresh} />;

  const { me } = screen;
  const admin = me.role === "admin";
  const shown = PAGES.filter((p) => admin || !p.adminOnly);
  const current = shown.find((p) => p.path === page) ?? shown[0];
  const link = (p: (typeof PAGES)[number]) => (
    <li>
      <a href={p.path} onClick={go(p.path)} aria-current={current.path === p.path ? "page" : undefined}>
        {p.title}
      </a>
    </li>
  );
  return (
    <>
      <a class="skip" href="#content">
        Skip to the page
      </a>
      <header class="top">
        <strong class="brand">Flotilla</strong>
        <span class="who">
          {me.user ? me.user.username : "API key"} ({me.role})
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <nav aria-label="Dashboard" class="side">
          <ul>{shown.filter((p) => !p.adminOnly).map(link)}</ul>
          {shown.some((p) => p.adminOnly) && (
            <>
              <h2 class="nav-group" id="nav-admin">
                Admin
              </h2>
              <ul aria-labelledby="nav-admin">{shown.filter((p) => p.adminOnly).map(link)}</ul>
            </>
          )}
        </nav>
        <main id="content" tabIndex={-1}>
          <current.view me={me} admin={admin} />
        </main>
      </div>
    </>
  );
}
