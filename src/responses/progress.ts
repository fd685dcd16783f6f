import type { ResponseChange, ResponseRepo } from "../store/index.js";
import type { StreamEvent } from "./events.js";
import type { ResponseObject } from "./object.js";
import type { OutputItem } from "./translate.js";

/** Events are kept together, at most this long after the first of them is made. */
const WRITE_EVERY_MS = 100;

/**
 * A running background response's progress, written as it goes: its output
 * so far (what GET shows) as each item is done and, made with `stream: true`,
 * its stream's events, a batch at a time. A write that finds the response
 * moved on by another (cancelled, deleted, failed) stops the run.
 */
export class Progress {
  readonly output: OutputItem[] = [];
  private events: string[] = [];
  private outputChanged = false;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: Pick<ResponseRepo, "advance">,
    private readonly id: string,
    /** The response as it began: what GET shows of it, with the output so far. */
    private readonly started: ResponseObject,
    private readonly options: { moved(): void; stop(): void; warn(err: Error): void },
  ) {}

  event(event: StreamEvent): void {
    this.events.push(JSON.stringify(event));
    this.timer ??= setTimeout(() => void this.write(), WRITE_EVERY_MS).unref();
  }

  /** An output item is done: written now, with the events before it. */
  item(item: OutputItem): void {
    this.output.push(item);
    this.outputChanged = true;
    void this.write();
  }

  /** Writes what is waiting, after any write under way. */
  private write(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(async () => {
      const events = this.events.splice(0);
      const change = this.outputChanged ? { status: "in_progress", response: JSON.stringify({ ...this.started, output: this.output }) } : undefined;
      this.outputChanged = false;
      if (events.length === 0 && !change) return;
      try {
        if (await this.repo.advance(this.id, ["in_progress"], change, events, Date.now())) this.options.moved();
        else this.options.stop();
      } catch (err) {
        // Kept for the next write, in order.
        this.events.unshift(...events);
        if (change) this.outputChanged = true;
        this.options.warn(err as Error);
      }
    });
    return this.writing;
  }

  /** Ends the response as `change`, its waiting events and `last` kept with it; false when another moved it on first. */
  async end(change: ResponseChange, last: StreamEvent[]): Promise<boolean> {
    clearTimeout(this.timer);
    await this.writing;
    const events = [...this.events.splice(0), ...last.map((e) => JSON.stringify(e))];
    return this.repo.advance(this.id, ["in_progress"], change, events, Date.now());
  }

  /** No more writes: the run stopped. */
  close(): void {
    clearTimeout(this.timer);
    this.events = [];
  }
}
