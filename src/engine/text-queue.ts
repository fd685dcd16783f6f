/**
 * Text produced by a callback (node-llama-cpp's onTextChunk), read as an
 * async iterator. Chunks that arrive while the reader is busy are joined, so
 * a slow reader gets fewer, larger chunks instead of a growing backlog.
 */
export class TextQueue implements AsyncIterable<string> {
  private pending = "";
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  push(text: string): void {
    this.pending += text;
    this.notify();
  }

  end(err?: unknown): void {
    this.ended = true;
    this.failure = err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.pending) {
        const text = this.pending;
        this.pending = "";
        yield text;
        continue;
      }
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** At most `size` holders at once; the rest wait in order. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async take(signal: AbortSignal): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason ?? new Error("aborted"));
      };
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      this.waiting.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
