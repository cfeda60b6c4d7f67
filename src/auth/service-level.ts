/**
 * The limit of a service level in a table keyed by level name (RATE_LIMITS, quotas), with
 * `free`'s for a level the table does not name. The level comes from the client's token, so
 * only the table's own entries count: a plain `table[level]` would give `"constructor"` or
 * `"__proto__"` an Object.prototype member instead of a number, and no limit at all.
 */
export function limitForLevel(table: Readonly<Record<string, number>>, level: string): number | undefined {
  if (Object.hasOwn(table, level)) return table[level];
  return Object.hasOwn(table, 'free') ? table.free : undefined;
}
