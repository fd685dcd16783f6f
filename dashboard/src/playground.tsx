import { useEffect, useRef, useState } from "preact/hooks";
import { api, send, sseEvents } from "./api.js";
import { Alert } from "./controls.js";

interface Message {
  role: "user" | "assistant";
  content: string;
}

/** Appends each streamed delta of a chat completion to the last (assistant) message. */
async function streamReply(model: string, history: Message[], signal: AbortSignal, onText: (text: string) => void): Promise<void> {
  const res = await send("/v1/chat/completions", { method: "POST", body: { model, messages: history, stream: true }, signal });
  for await (const { data } of sseEvents(res)) {
    if (data === "[DONE]") return;
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null } }>; error?: { message?: string } };
    if (chunk.error) throw new Error(chunk.error.message ?? "the stream ended with an error");
    const text = chunk.choices?.[0]?.delta?.content;
    if (text) onText(text);
  }
}

export function Playground() {
  const [models, setModels] = useState<string[]>();
  const [model, setModel] = useState("");
  const [messages, setMessages] = useState<Message[]>([]);
  const [running, setRunning] = useState<AbortController>();
  const [error, setError] = useState<string>();
  const transcript = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api<{ data: Array<{ id: string }> }>("/v1/models").then(
      ({ data }) => {
        const ids = data.map((m) => m.id).sort();
        setModels(ids);
        setModel((now) => now || (ids[0] ?? ""));
      },
      (err: Error) => setError(err.message),
    );
  }, []);
  useEffect(() => {
    const box = transcript.current;
    if (box) box.scrollTop = box.scrollHeight;
  }, [messages]);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem("prompt") as HTMLTextAreaElement;
    const prompt = input.value.trim();
    if (!prompt || !model || running) return;
    const history: Message[] = [...messages, { role: "user", content: prompt }];
    setMessages([...history, { role: "assistant", content: "" }]);
    input.value = "";
    setError(undefined);
    const stop = new AbortController();
    setRunning(stop);
    try {
      await streamReply(model, history, stop.signal, (text) =>
        setMessages((now) => {
          const last = now[now.length - 1];
          return [...now.slice(0, -1), { ...last, content: last.content + text }];
        }),
      );
    } catch (err) {
      if (!stop.signal.aborted) setError((err as Error).message);
    } finally {
      setRunning(undefined);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    // Enter sends, Shift+Enter makes a new line, as chat boxes do.
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      (event.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
    }
  };

  return (
    <section aria-labelledby="playground-title" class="playground">
      <div class="section-head">
        <h2 id="playground-title">Playground</h2>
        <label class="inline">
          Model
          <select value={model} onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)} disabled={!models?.length}>
            {models?.map((id) => (
              <option value={id}>{id}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setMessages([])} disabled={!!running || messages.length === 0}>
          New chat
        </button>
      </div>
      {models?.length === 0 && <p class="muted">No model is available: the fleet has no server with a model yet.</p>}
      <div class="transcript card" ref={transcript} aria-live="polite" aria-label="Conversation">
        {messages.length === 0 && <p class="muted">Ask something; the answer appears as it is written.</p>}
        {messages.map((m, i) => (
          <div class={`message ${m.role}`} key={i}>
            <span class="who">{m.role === "user" ? "You" : "Assistant"}</span>
            <p>{m.content || (running && i === messages.length - 1 ? "…" : "")}</p>
          </div>
        ))}
      </div>
      <Alert text={error} />
      <form class="composer" onSubmit={submit}>
        <label class="visually-hidden" for="prompt">
          Message
        </label>
        <textarea id="prompt" name="prompt" rows={3} maxLength={100_000} onKeyDown={onKeyDown} placeholder="Message (Enter sends, Shift+Enter for a new line)" />
        {running ? (
          <button type="button" onClick={() => running.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" class="primary" disabled={!model}>
            Send
          </button>
        )}
      </form>
    </section>
  );
}
