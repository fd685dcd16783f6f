export type Later = (ms: number, run: () => void) => void;

/** Every timer a sim sets, so closing it leaves nothing pending. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  readonly later: Later = (ms, run) => {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      run();
    }, ms);
    this.pending.add(timer);
  };

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}
