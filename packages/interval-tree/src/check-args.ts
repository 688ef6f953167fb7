import { IntervalHandle } from './interval-node.js';
import type { NodeStore } from './node-store.js';

/** Renders a rejected argument for an error message. */
function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  return typeof value;
}

/** A bound must be an integer in [0, Number.MAX_SAFE_INTEGER]. */
export function checkBound(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be an integer in [0, Number.MAX_SAFE_INTEGER], got ${show(value)}`,
    );
  }
}

/** Both bounds valid and `start <= last` (closed interval, never empty). */
export function checkInterval(start: number, last: number): void {
  checkBound('start', start);
  checkBound('last', last);
  if (start > last) {
    throw new RangeError(`start must be <= last, got start ${start} > last ${last}`);
  }
}

/** The node must be a handle currently linked in this store. */
export function checkMember<T>(s: NodeStore<T>, node: unknown): asserts node is IntervalHandle<T> {
  if (!(node instanceof IntervalHandle) || s.handles[node.slot] !== node) {
    const what = node instanceof IntervalHandle ? `[${node.start}, ${node.last}]` : show(node);
    throw new RangeError(`node is not in this tree, got ${what}`);
  }
}
