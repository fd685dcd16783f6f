import type { FailOptions } from "./options.js";

/** Failure injections waiting for the requests they match, first added first used. */
export class FailureQueue {
  private readonly rules: FailOptions[] = [];

  add(rule: FailOptions): void {
    if (rule.times === undefined || rule.times > 0) this.rules.push({ ...rule });
  }

  /** The first rule matching `path`, with one of its uses taken. */
  take(path: string): FailOptions | undefined {
    if (this.rules.length === 0) return undefined;
    const index = this.rules.findIndex((rule) => rule.path === undefined || rule.path === path);
    if (index === -1) return undefined;
    const rule = this.rules[index];
    if (rule.times !== undefined && --rule.times === 0) this.rules.splice(index, 1);
    return rule;
  }
}
