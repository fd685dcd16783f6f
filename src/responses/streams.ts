import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { ResponseRepo } from "../store/index.js";
import { writeEvent, type StreamEvent } from "./events.js";
import { LIVE, type ResponseStatus } from "./object.js";

const PAGE = 500;
/** How often a follower reads again for events a run on another replica kept; a run on this replica wakes it at once. */
const POLL_MS = 250;
/** The events that end a stream. */
const ENDS = new Set(["response.completed", "response.failed", "response.incomplete"]);

/**
 * The kept streams of background responses, told to their followers: the
 * events after a number, in order, then each one as it is kept, until the
 * one that ends the stream. Followers read the store, so a stream reads the
 * same on every replica, before and after a restart.
 */
export class ResponseStreams {
  private readonly moves = new EventEmitter().setMaxListeners(0);

  constructor(private readonly repo: Pick<ResponseRepo, "get" | "events">) {}

  /** A response's stream moved on (events kept, it ended, or it was deleted): its followers here read again now. */
  moved(id: string): void {
    this.moves.emit(id);
  }

  /** Writes the events of `id` numbered above `after`, then each as it is kept, until its stream ends, it is deleted, or `signal`. */
  async follow(id: string, after: number, res: ServerResponse, signal: AbortSignal): Promise<void> {
    let cursor = after;
    while (!signal.aborted) {
      // The status is read first: an ended response has kept its every event, the one that ends it with it, and the reads below get them.
      const row = await this.repo.get(id);
      for (;;) {
        const page = await this.repo.events(id, cursor, PAGE);
        for (const { sequence, event } of page) {
          const parsed = JSON.parse(event) as StreamEvent;
          writeEvent(res, parsed, sequence);
          cursor = sequence;
          if (ENDS.has(parsed.type)) return;
        }
        if (page.length < PAGE) break;
      }
      if (!row || !LIVE.includes(row.status as ResponseStatus)) return;
      await this.nextMove(id, signal);
    }
  }

  private nextMove(id: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.moves.off(id, done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      this.moves.on(id, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
