/** A key just made, shown this once: the API never shows it again. */
export function KeyShownOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  return (
    <div class="card new-key" role="status">
      <p>
        The new key <strong>{name}</strong>. Copy it now: it is shown this once and never again.
      </p>
      <input class="mono" readOnly value={secret} aria-label="The new key" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
      <button type="button" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
