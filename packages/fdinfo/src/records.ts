/*
 * Records keyed by names read from untrusted text (engine, region, other keys) have no
 * prototype: a name such as `__proto__` or `constructor` is then a plain own key and
 * cannot reach Object.prototype.
 */

/** An empty record without prototype. */
export function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The entry of a prototype-less record, created empty when missing. */
export function slot<T extends object>(rec: Record<string, T>, name: string): T {
  let v = rec[name];
  if (v === undefined) {
    v = {} as T;
    rec[name] = v;
  }
  return v;
}

/** Own-property read that also works on ordinary objects given by callers. */
export function own<T>(rec: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(rec, name) ? rec[name] : undefined;
}
