import { IntervalHandle } from './interval-node.js';
import type { NodeStore } from './node-store.js';

/*
 * Argument checks for every public entry point. The fast path is a handful of
 * comparisons the JIT inlines into the caller (this runs twice per query
 * step); the slow path works out which argument is wrong and says so.
 */

const MAX = Number.MAX_SAFE_INTEGER;

/** Both bounds integers in [0, Number.MAX_SAFE_INTEGER] and `start <= last`, or a RangeError. */
export function checkInterval(start: number, last: number): void {
  if (
    typeof start !== 'number' ||
    typeof last !== 'number' ||
    !(start >= 0 && start <= last && last <= MAX) ||
    Math.floor(start) !== start ||
    Math.floor(last) !== last
  ) {
    rejectInterval(start, last);
  }
}

/**
 * The node must be a handle currently linked in this store, or a RangeError.
 * A handle points at its store until it is removed (then at its own copy of
 * its bounds) and `clear()` gives the tree a new store, so the pointer alone
 * tells membership, without loading `handles[slot]`: one cache miss less
 * per remove on a large tree.
 */
export function checkMember<T>(s: NodeStore<T>, node: unknown): asserts node is IntervalHandle<T> {
  if (!(node instanceof IntervalHandle) || node.bounds !== s) rejectNode(node);
}

function rejectInterval(start: unknown, last: unknown): never {
  checkBound('start', start);
  checkBound('last', last);
  throw new RangeError(`start must be <= last, got start ${show(start)} > last ${show(last)}`);
}

function checkBound(name: string, value: unknown): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(
      `${name} must be an integer in [0, Number.MAX_SAFE_INTEGER], got ${show(value)}`,
    );
  }
}

function rejectNode(node: unknown): never {
  const what = node instanceof IntervalHandle ? `[${node.start}, ${node.last}]` : show(node);
  throw new RangeError(`node is not in this tree, got ${what}`);
}

/** Renders a rejected argument for an error message. */
function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  return typeof value;
}
