import type { LockClass } from './lockdep.js';

/**
 * Task and wait records: a task is a "kernel thread" (an async function run by the
 * scheduler), a wait is one sleep of one task on one runtime primitive.
 */

/**
 * A spawned task ("kernel thread"), as user code sees it. Mirrors the task_struct of a
 * kthread: `id` counts spawns from 0 (`main`), `done` turns true when its function
 * returns or throws, `join()` waits for that (a scheduling point in explorer runs).
 */
export interface Task<T = unknown> {
  readonly id: number;
  readonly name: string;
  readonly done: boolean;
  /** Waits until the task finishes; returns its value or rethrows its error. */
  join(): Promise<T>;
}

/** join() lives in the runtime; installed there so this file needs no import of it. */
let joinHook: (t: TaskState) => Promise<unknown> = () => Promise.reject(new Error('no runtime'));

export function setJoinHook(hook: (t: TaskState) => Promise<unknown>): void {
  joinHook = hook;
}

export const RUNNING = 0;
export const RUNNABLE = 1;
export const BLOCKED = 2;
export const DONE = 3;

/** One lock (or pseudo-lock) on a task's held stack, as lockdep records it. */
export interface HeldLock {
  cls: LockClass;
  instance: object;
  /** 0 exclusive, 1 shared (rwsem read), 2 recursive read (SRCU read side). */
  read: number;
}

/** Where the shared executor leaves a new promise's resolvers (no closure per wait). */
const captured: { resolve: () => void; reject: (e: unknown) => void } = {
  resolve: () => {},
  reject: () => {},
};

function capture(resolve: () => void, reject: (e: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/**
 * One sleep of one task. Its promise is settled only when the scheduler dispatches the
 * task (never at wake-up time), so no task code runs while another task is current.
 */
export class Wait {
  readonly task: TaskState;
  readonly what: string;
  /** Who must act to end this wait (the lock owner), for the deadlock wait chain. */
  readonly holder: (() => TaskState | undefined) | undefined;
  /** The sleeper re-checks its condition when woken, so a spurious wake-up is safe. */
  readonly recheck: boolean;
  /** Set by wake(): the wait is over and will be settled at the next dispatch. */
  ready = false;
  error: unknown;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;

  constructor(
    task: TaskState,
    what: string,
    holder: (() => TaskState | undefined) | undefined,
    recheck = false,
  ) {
    this.task = task;
    this.what = what;
    this.holder = holder;
    this.recheck = recheck;
    this.promise = new Promise<void>(capture);
    this.resolve = captured.resolve;
    this.reject = captured.reject;
  }
}

/**
 * The scheduler's record of a task. Fields are touched only by the runtime while the
 * task is current (held, preempt, nonBlock) or by the scheduler (state, waits).
 */
export class TaskState implements Task {
  readonly id: number;
  readonly name: string;
  state = RUNNABLE;
  /** Waits that are not yet woken; the task becomes runnable when this drops to zero. */
  readonly pending: Wait[] = [];
  /** Woken waits, settled when the task is next dispatched. */
  readonly ready: Wait[] = [];
  /** Lockdep held stack, innermost last. */
  readonly held: HeldLock[] = [];
  /** preempt_count: spinlocks held plus explicit preemptDisable(). */
  preempt = 0;
  /** current->non_block_count. */
  nonBlock = 0;
  /** Explorer: cond_resched() calls in a row that kept the CPU (polling detection). */
  spins = 0;
  /** KTHREAD_SHOULD_STOP, set by kthreadStop(). */
  shouldStop = false;
  /** Tasks waiting in join(). */
  readonly joiners: Wait[] = [];
  joined = false;
  result: unknown;
  error: unknown;
  failed = false;

  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  join(): Promise<unknown> {
    return joinHook(this);
  }

  toString(): string {
    return `${this.name}#${this.id}`;
  }
}

/** Removes `arr[i]` in place without allocating (Array.prototype.splice returns an array). */
export function removeAt<T>(arr: T[], i: number): void {
  const last = arr.length - 1;
  for (let j = i; j < last; j++) arr[j] = arr[j + 1]!;
  arr.pop();
}
