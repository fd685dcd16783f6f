import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import type { FleetNode } from "./live.js";
import { useApi } from "./hooks.js";
import "./notifications.css";

/** GET/PUT /api/settings/telegram (src/schedule/notify-routes.ts TelegramView): the token itself never comes back. */
interface TelegramView {
  hasBotToken: boolean;
  botTokenLast4: string | null;
  chatId: string | null;
  isEnabled: boolean;
}

/** One of GET /api/settings/subscriptions' (src/schedule/notify-routes.ts SubscriptionView). */
interface SubscriptionView {
  id: string;
  server: string;
  events: string[];
  channel: string;
  url: string | null;
  createdAt: string;
}
interface SubscriptionsView {
  subscriptions: SubscriptionView[];
  channels: string[];
}

/** A subscription being edited: `url` empty when there is none. */
interface Draft {
  server: string;
  events: string[];
  channel: string;
  url: string;
}

/** src/schedule/notifier.ts NOTIFICATION_EVENTS, with what each means. */
const EVENTS: Array<[string, string]> = [
  ["server.down", "goes down"],
  ["server.up", "comes back"],
  ["server.reboot", "reboots"],
];

function Telegram() {
  const { data, error: loadError, reload } = useApi<TelegramView>("/api/settings/telegram");
  const [token, setToken] = useState("");
  const [chatId, setChatId] = useState("");
  const [enabled, setEnabled] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  useEffect(() => {
    setChatId(data?.chatId ?? "");
    setEnabled(data?.isEnabled ?? false);
  }, [data]);

  const run = async (work: () => Promise<string>) => {
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await work());
    } catch (err) {
      setError((err as Error).message);
    }
    reload();
  };
  const save = (event: SubmitEvent) => {
    event.preventDefault();
    void run(async () => {
      const change = { chatId: chatId.trim() || null, isEnabled: enabled, ...(token ? { botToken: token.trim() } : {}) };
      await api<TelegramView>("/api/settings/telegram", { method: "PUT", body: change });
      setToken("");
      return "Saved.";
    });
  };
  const forgetToken = () =>
    run(async () => {
      await api<TelegramView>("/api/settings/telegram", { method: "PUT", body: { botToken: null, isEnabled: false } });
      return "The bot token is forgotten, and Telegram is off.";
    });
  const sendTest = () =>
    run(async () => {
      await api("/api/settings/telegram/test", { method: "POST" });
      return "Telegram took the test message: look in the chat.";
    });

  return (
    <section class="card" aria-labelledby="telegram-title">
      <h3 id="telegram-title">Telegram (the gateway's bot and chat)</h3>
      <Alert text={loadError} />
      {data && (
        <form class="telegram-form" onSubmit={save} aria-label="Telegram settings">
          <p class="token-state">
            Bot token:{" "}
            {data.hasBotToken ? (
              <>
                <strong>set</strong> <span class="muted">(ends in {data.botTokenLast4}; it is kept sealed and never shown)</span>
              </>
            ) : (
              <strong>not set</strong>
            )}
          </p>
          <label>
            {data.hasBotToken ? "New bot token" : "Bot token"}
            <input
              type="password"
              autocomplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
              maxLength={221}
              placeholder={data.hasBotToken ? "leave empty to keep the one set" : "from @BotFather: 123456:ABC…"}
            />
          </label>
          <label>
            Chat
            <input value={chatId} onInput={(e) => setChatId(e.currentTarget.value)} maxLength={33} placeholder="-1001234567890 or @channelname" />
          </label>
          <label class="check">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Send notices to this chat
          </label>
          <div class="buttons">
            <button type="submit" class="primary">
              Save Telegram settings
            </button>
            <button type="button" onClick={sendTest} disabled={!data.hasBotToken || !data.chatId}>
              Send a test message
            </button>
            {data.hasBotToken && (
              <button type="button" onClick={forgetToken}>
                Forget the token
              </button>
            )}
          </div>
        </form>
      )}
      <Alert text={error} />
      {done && <p role="status">{done}</p>}
    </section>
  );
}

const draftOf = (s: SubscriptionView): Draft => ({ server: s.server, events: s.events, channel: s.channel, url: s.url ?? "" });

function SubscriptionFields({ n, draft, channels, change, remove }: { n: number; draft: Draft; channels: string[]; change: (d: Draft) => void; remove: () => void }) {
  const toggle = (event: string, on: boolean) => change({ ...draft, events: on ? [...draft.events, event] : draft.events.filter((e) => e !== event) });
  return (
    <fieldset class="subscription">
      <legend>Subscription {n}</legend>
      <label>
        Server
        <input value={draft.server} onInput={(e) => change({ ...draft, server: e.currentTarget.value })} list="notify-servers" required maxLength={128} />
      </label>
      <div class="events" role="group" aria-label="Events">
        {EVENTS.map(([event, what]) => (
          <label class="check">
            <input type="checkbox" checked={draft.events.includes(event)} onChange={(e) => toggle(event, e.currentTarget.checked)} /> {what}
          </label>
        ))}
      </div>
      <label>
        Channel
        <select onChange={(e) => change({ ...draft, channel: e.currentTarget.value })}>
          {channels.map((c) => (
            <option value={c} selected={c === draft.channel}>
              {c === "telegram" ? "telegram (the admin's chat)" : c}
            </option>
          ))}
        </select>
      </label>
      {draft.channel !== "telegram" && (
        <label>
          URL
          <input type="url" value={draft.url} onInput={(e) => change({ ...draft, url: e.currentTarget.value })} required={draft.channel === "webhook"} maxLength={2048} placeholder="https://hooks.example/alerts" />
        </label>
      )}
      <button type="button" onClick={remove} aria-label={`Remove subscription ${n}`}>
        Remove
      </button>
    </fieldset>
  );
}

function Subscriptions() {
  const { data, error: loadError } = useApi<SubscriptionsView>("/api/settings/subscriptions");
  const { data: state } = useApi<{ nodes: FleetNode[] }>("/api/state");
  const [drafts, setDrafts] = useState<Draft[]>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  useEffect(() => {
    if (data) setDrafts(data.subscriptions.map(draftOf));
  }, [data]);
  const channels = data?.channels ?? [];

  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    setError(undefined);
    setDone(undefined);
    const subscriptions = (drafts ?? []).map((d) => ({ server: d.server.trim(), events: d.events, channel: d.channel, ...(d.channel !== "telegram" && d.url.trim() ? { url: d.url.trim() } : {}) }));
    try {
      const saved = await api<SubscriptionsView>("/api/settings/subscriptions", { method: "PUT", body: { subscriptions } });
      setDrafts(saved.subscriptions.map(draftOf));
      setDone("Saved.");
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const add = () => setDrafts([...(drafts ?? []), { server: "*", events: ["server.down", "server.up"], channel: channels.includes("webhook") ? "webhook" : (channels[0] ?? ""), url: "" }]);

  return (
    <section class="card" aria-labelledby="subscriptions-title">
      <h3 id="subscriptions-title">Your subscriptions</h3>
      <p class="muted">Be told when a server goes down, comes back or reboots. Server * is every server and worker.</p>
      <Alert text={loadError} />
      <datalist id="notify-servers">
        <option value="*" />
        {state?.nodes.map((n) => <option value={n.id} />)}
      </datalist>
      {drafts && (
        <form class="stack" onSubmit={save} aria-label="Your subscriptions">
          {drafts.length === 0 && <p class="muted">No subscriptions yet.</p>}
          {drafts.map((draft, i) => (
            <SubscriptionFields
              n={i + 1}
              draft={draft}
              channels={channels}
              change={(d) => setDrafts(drafts.map((old, j) => (j === i ? d : old)))}
              remove={() => setDrafts(drafts.filter((_, j) => j !== i))}
            />
          ))}
          <div class="buttons">
            <button type="button" onClick={add}>
              Add a subscription
            </button>
            <button type="submit" class="primary">
              Save subscriptions
            </button>
          </div>
        </form>
      )}
      <Alert text={error} />
      {done && <p role="status">{done}</p>}
    </section>
  );
}

export function Notifications({ admin, guest }: { admin: boolean; guest: boolean }) {
  return (
    <section aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      {admin && <Telegram />}
      {guest ? <p class="muted">Guests cannot subscribe to notifications: upgrade to a permanent account first.</p> : <Subscriptions />}
    </section>
  );
}
