export type Priority = "interactive" | "batch";

export interface Queued {
  priority: Priority;
  keyId: string;
}

/**
 * Interactive before batch; within a class, keys take turns so one busy key
 * cannot starve the others.
 */
export class FairQueue<T extends Queued> {
  private readonly classes: Record<Priority, Map<string, T[]>> = { interactive: new Map(), batch: new Map() };
  size = 0;

  push(item: T): void {
    const byKey = this.classes[item.priority];
    const list = byKey.get(item.keyId);
    if (list) list.push(item);
    else byKey.set(item.keyId, [item]);
    this.size++;
  }

  peek(): T | undefined {
    for (const byKey of [this.classes.interactive, this.classes.batch]) {
      const first = byKey.values().next();
      if (!first.done) return first.value[0];
    }
    return undefined;
  }

  /** Takes the head and sends its key to the back of its class. */
  shift(): T | undefined {
    const item = this.peek();
    if (!item) return undefined;
    const byKey = this.classes[item.priority];
    const list = byKey.get(item.keyId) as T[];
    list.shift();
    byKey.delete(item.keyId);
    if (list.length) byKey.set(item.keyId, list);
    this.size--;
    return item;
  }

  remove(item: T): boolean {
    const byKey = this.classes[item.priority];
    const list = byKey.get(item.keyId);
    const index = list?.indexOf(item) ?? -1;
    if (!list || index === -1) return false;
    list.splice(index, 1);
    if (!list.length) byKey.delete(item.keyId);
    this.size--;
    return true;
  }
}
