/** Whether a name matches any of `patterns`, where `*` matches any run of characters (`laptop__*`, `llama3:*`). */
export function namePatterns(patterns: readonly string[]): (name: string) => boolean {
  const expressions = patterns.map((p) => new RegExp(`^${p.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`));
  return (name) => expressions.some((e) => e.test(name));
}
