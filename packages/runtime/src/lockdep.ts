import { rt } from './runtime.js';
import { type HeldLock, removeAt, type TaskState } from './task.js';
import { emit, sink } from './trace-sink.js';

/**
 * lockdep-lite: lock classes, the acquisition-order graph and the held-lock stacks.
 *
 * Like the kernel's lockdep (kernel/locking/lockdep.c), a dependency A → B is recorded
 * when a task acquires B while holding A, for classes rather than instances, and a
 * new dependency that closes a cycle is reported at once, whether or not this run
 * deadlocks. A cycle through the `fs_reclaim` pseudo-lock is a reclaim deadlock
 * (kind `reclaim-under-lock`); any other cycle is kind `lock-order`.
 *
 * State: the graph lives in the classes (`after`), tagged with the runtime's epoch so
 * that a fresh runtime (every explorer run, resetRuntime()) starts with an empty graph.
 * Held stacks live in each task and are touched only by the task itself.
 */

/** Read modes on the held stack. */
export const EXCLUSIVE = 0;
export const SHARED = 1;
/** Recursive read (SRCU read side): never blocks, so nothing orders before it. */
export const RECURSIVE_READ = 2;

/** The name lockdep gives the reclaim pseudo-lock (`__fs_reclaim_map`). */
export const FS_RECLAIM = 'fs_reclaim';

export class LockClass {
  readonly name: string;
  /** Dependencies recorded from this class: class → task that first recorded it. */
  readonly after = new Map<LockClass, string>();
  epoch = 0;
  constructor(name: string) {
    this.name = name;
  }
}

const classes = new Map<string, LockClass>();

/** The class for `name` and nesting `subclass` (mutex_lock_nested and friends). */
export function lockClass(name: string, subclass = 0): LockClass {
  const key = subclass === 0 ? name : `${name}/${subclass}`;
  let c = classes.get(key);
  if (!c) {
    c = new LockClass(key);
    classes.set(key, c);
  }
  return c;
}

function edges(c: LockClass): Map<LockClass, string> {
  if (c.epoch !== rt.epoch) {
    c.after.clear();
    c.epoch = rt.epoch;
  }
  return c.after;
}

/**
 * lock_acquire(): checks recursion and order, then pushes the lock on the current
 * task's held stack. A trylock records no dependency (it cannot deadlock) but is
 * pushed, so locks taken under it are ordered after it. `entry` lets a lock that only
 * one task can hold at a time reuse its own held-stack record instead of allocating.
 */
export function lockdepAcquire(
  cls: LockClass,
  instance: object,
  read: number,
  trylock: boolean,
  entry?: HeldLock,
): void {
  const t = rt.current;
  const held = t.held;
  if (held.length > 0 && read !== RECURSIVE_READ) {
    checkRecursion(t, cls, instance);
    if (rt.lockdep && !trylock) {
      for (let i = 0; i < held.length; i++) addDependency(t, held[i]!.cls, cls);
    }
  }
  if (entry === undefined) {
    held.push({ cls, instance, read });
  } else {
    entry.cls = cls;
    entry.read = read;
    held.push(entry);
  }
  if (sink) emit(t.id, 'lock', cls.name, { op: 'acquire', read });
}

/** lock_release(): removes the innermost entry for `instance`; false if it was not held. */
export function lockdepRelease(instance: object): boolean {
  const t = rt.current;
  const held = t.held;
  for (let i = held.length - 1; i >= 0; i--) {
    const h = held[i]!;
    if (h.instance !== instance) continue;
    if (i === held.length - 1) held.pop();
    else removeAt(held, i);
    if (sink) emit(t.id, 'lock', h.cls.name, { op: 'release' });
    return true;
  }
  return false;
}

/** lock_downgrade(): the held entry for `instance` becomes a shared (read) hold. */
export function lockdepDowngrade(instance: object): void {
  const h = findHeld(rt.current, instance);
  if (h) h.read = SHARED;
}

/** lock_sync(): orders every held lock before `cls` without holding it (synchronize_srcu). */
export function lockdepSync(cls: LockClass): void {
  const t = rt.current;
  if (!rt.lockdep) return;
  for (let i = 0; i < t.held.length; i++) addDependency(t, t.held[i]!.cls, cls);
}

export function findHeld(t: TaskState, instance: object): HeldLock | undefined {
  const held = t.held;
  for (let i = held.length - 1; i >= 0; i--) if (held[i]!.instance === instance) return held[i];
  return undefined;
}

function checkRecursion(t: TaskState, cls: LockClass, instance: object): void {
  for (const h of t.held) {
    if (h.instance === instance) {
      throw rt.violation(
        'lock-misuse',
        `recursive locking: task ${t} acquires ${cls.name} which it already holds (self-deadlock)`,
      );
    }
    if (h.cls === cls && rt.lockdep && h.read !== RECURSIVE_READ) {
      throw rt.violation(
        'lock-order',
        `possible recursive locking: task ${t} acquires a second ${cls.name} while holding one; ` +
          'annotate the nesting with a subclass (lockNested / downWriteNested)',
      );
    }
  }
}

function addDependency(t: TaskState, from: LockClass, to: LockClass): void {
  if (from === to) return;
  const out = edges(from);
  if (out.has(to)) return;
  const back = findPath(to, from);
  if (back) throw rt.violation(cycleKind(back), cycleReport(t, from, to, back));
  out.set(to, `${t}`);
}

/** Depth-first search for a path `from` → ... → `to` in the recorded graph. */
function findPath(from: LockClass, to: LockClass): LockClass[] | undefined {
  const seen = new Set<LockClass>([from]);
  const stack: LockClass[][] = [[from]];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const last = path[path.length - 1]!;
    for (const next of edges(last).keys()) {
      if (next === to) return [...path, next];
      if (!seen.has(next)) {
        seen.add(next);
        stack.push([...path, next]);
      }
    }
  }
  return undefined;
}

function cycleKind(path: readonly LockClass[]): 'lock-order' | 'reclaim-under-lock' {
  return path.some((c) => c.name === FS_RECLAIM) ? 'reclaim-under-lock' : 'lock-order';
}

function cycleReport(t: TaskState, from: LockClass, to: LockClass, back: LockClass[]): string {
  const chain = back
    .slice(1)
    .map((c, i) => `${back[i]!.name} -> ${c.name} (recorded by ${edges(back[i]!).get(c)})`)
    .join(', ');
  const head =
    cycleKind(back) === 'reclaim-under-lock'
      ? 'possible reclaim deadlock: a reclaim-capable allocation is ordered against a lock taken on the reclaim path'
      : 'possible circular locking dependency';
  return `${head}: task ${t} acquires ${to.name} while holding ${from.name}; existing chain: ${chain}; new dependency ${from.name} -> ${to.name} closes the cycle`;
}
