import { KernelError } from './errors.js';
import {
  BLOCKED,
  DONE,
  RUNNABLE,
  RUNNING,
  removeAt,
  setJoinHook,
  TaskState,
  Wait,
} from './task.js';
import { emit, sink, tick } from './trace-sink.js';
import { RuntimeViolation, type ViolationKind } from './violation.js';

/**
 * The scheduler: exactly one task runs at a time, in both modes.
 *
 * A task leaves the CPU only by parking in {@link Runtime.block} (or finishing). The
 * switch happens in one microtask queued at the park, so a task that parks on several
 * waits in the same turn (`Promise.all` of joins) is blocked on all of them. A woken
 * wait is settled only when its task is dispatched, and `current` is set before that,
 * so every line of task code runs with `current` pointing at its own task.
 *
 * FIFO mode (default): run-to-block, the run queue is FIFO, uncontended operations
 * never park. Code outside any spawned task is the implicit task `main` (id 0).
 * Explore mode: every operation that may sleep is a scheduling point where the policy
 * picks the next task among the runnable ones (the yielding task included).
 */

/**
 * Why the scheduler is choosing. After a block or an exit the previous task cannot
 * run, any choice is free. At a preemption point (an operation that may sleep, or a
 * cond_resched) the previous task could go on: running another one is a preemption.
 * A task that keeps yielding without anyone else running ({@link SPIN_LIMIT} times in
 * a row) is polling: its yield is then voluntary, switching is free and the default
 * is the oldest other runnable task, so spin-and-yield loops cannot livelock a run.
 */
export type SchedPoint = typeof AFTER_BLOCK | typeof PREEMPTION_POINT | typeof VOLUNTARY_YIELD;
export const AFTER_BLOCK = 0;
export const PREEMPTION_POINT = 1;
export const VOLUNTARY_YIELD = 2;
/** Consecutive cond_resched() calls that kept the CPU before a task counts as polling. */
export const SPIN_LIMIT = 8;

/** The explorer's choice function, consulted at each step with two or more runnable tasks. */
export interface SchedulePolicy {
  /**
   * Returns an index into `runq`. `dflt` is the default choice: the previous
   * task at a preemption point, else the head of the queue. `prev` is the task that
   * just stopped (it is in `runq` unless `point` is AFTER_BLOCK).
   */
  choose(runq: readonly TaskState[], dflt: number, prev: TaskState, point: SchedPoint): number;
}

/** What the explorer gives one run. */
export interface RunHooks {
  readonly policy: SchedulePolicy;
  readonly maxSteps: number;
  readonly lockdep: boolean;
  /** Records the runnable set at every step (determinism check). */
  readonly signature: string[] | undefined;
  onEnd(failure: unknown): void;
}

/** The promise every non-parking scheduling point returns; compare by identity. */
export const RESOLVED: Promise<void> = Promise.resolve();
let epochs = 0;

export class Runtime {
  /** True inside an explorer run: every sleeping operation is a scheduling point. */
  readonly explore: boolean;
  readonly tasks: TaskState[] = [];
  /** Runnable tasks, FIFO order. Only the scheduler adds and removes. */
  readonly runq: TaskState[] = [];
  current: TaskState;
  /** Lockdep graph generation: a new runtime starts with an empty graph. */
  readonly epoch = ++epochs;
  readonly lockdep: boolean;
  steps = 0;
  failure: unknown;
  hasFailure = false;
  ended = false;
  readonly hooks: RunHooks | undefined;
  #switchPending = false;
  /** The task an explore point already chose, switched to at the next dispatch. */
  #forced: TaskState | undefined;
  readonly #dispatch = (): void => this.dispatch();

  constructor(hooks?: RunHooks, lockdep = true) {
    this.hooks = hooks;
    this.explore = hooks !== undefined;
    this.lockdep = hooks ? hooks.lockdep : lockdep;
    if (hooks) {
      this.current = new TaskState(-1, 'boot');
      this.current.state = DONE;
    } else {
      this.current = new TaskState(0, 'main');
      this.current.state = RUNNING;
      this.tasks.push(this.current);
    }
  }

  /** Creates a runnable task; it starts when the scheduler first dispatches it. */
  spawn<T>(name: string, fn: () => Promise<T> | T): TaskState {
    const t = new TaskState(this.tasks.length, name);
    this.tasks.push(t);
    const start = new Wait(t, 'start', undefined);
    start.ready = true;
    t.ready.push(start);
    this.runq.push(t);
    start.promise.then(fn).then(
      (v) => this.finish(t, v, false, undefined),
      (e: unknown) => this.finish(t, undefined, true, e),
    );
    if (sink) emit(this.current.id, 'task', 'spawn', { child: t.id, name });
    if (this.current.state !== RUNNING) this.requestSwitch();
    return t;
  }

  /** Parks the current task on a new wait; the caller awaits `wait.promise`. */
  block(what: string, holder?: () => TaskState | undefined, recheck = false): Wait {
    const t = this.current;
    const w = new Wait(t, what, holder, recheck);
    t.pending.push(w);
    if (t.state === RUNNABLE) removeAt(this.runq, this.runq.indexOf(t));
    t.state = BLOCKED;
    t.spins = 0;
    if (sink) emit(t.id, 'wait', what);
    this.requestSwitch();
    return w;
  }

  /** Ends a wait (with `error` to make it throw); the task runs at its next dispatch. */
  wake(w: Wait, error?: unknown): void {
    if (w.ready) return;
    w.ready = true;
    w.error = error;
    const t = w.task;
    const i = t.pending.indexOf(w);
    if (i >= 0) removeAt(t.pending, i);
    t.ready.push(w);
    if (t.pending.length === 0 && t.state === BLOCKED) {
      t.state = RUNNABLE;
      this.runq.push(t);
    }
  }

  /** A preemption point before an operation that may sleep (explorer runs only). */
  yield(): Promise<void> {
    if (this.hooks) return this.#explorePoint(this.hooks, false);
    return RESOLVED;
  }

  /** cond_resched(): FIFO yields only to waiting tasks; explore lets the policy choose. */
  resched(): Promise<void> {
    if (this.hooks) return this.#explorePoint(this.hooks, true);
    if (this.runq.length === 0) return RESOLVED;
    return this.#park();
  }

  #park(): Promise<void> {
    const w = this.block('yield');
    this.wake(w);
    return w.promise;
  }

  /**
   * A scheduling point of an explorer run, decided at once: the yielding task joins the
   * run queue and the policy picks. If it picks the yielding task, nothing parks (the
   * common case under dfs and pct); otherwise the switch to the chosen task happens in
   * the usual dispatch microtask, so code after this call still runs as this task.
   */
  #explorePoint(hooks: RunHooks, voluntary: boolean): Promise<void> {
    const cur = this.current;
    // Already parked in this turn (e.g. Promise.all of two sleeping calls): queue normally.
    if (this.hasFailure || this.ended || cur.state !== RUNNING) return this.#park();
    cur.state = RUNNABLE;
    this.runq.push(cur);
    const point = voluntary && cur.spins >= SPIN_LIMIT ? VOLUNTARY_YIELD : PREEMPTION_POINT;
    const next = this.#choose(hooks, cur, point);
    if (next === cur) {
      if (voluntary) cur.spins++;
      cur.state = RUNNING;
      return RESOLVED;
    }
    cur.spins = 0;
    const w = new Wait(cur, 'yield', undefined);
    w.ready = true;
    cur.ready.push(w);
    this.#forced = next;
    this.requestSwitch();
    return w.promise;
  }

  /**
   * might_sleep(): the current context must allow sleeping. `op(arg)` names the
   * operation in the report; the message is built only on failure (hot path).
   */
  mightSleep(op: string, arg?: string): void {
    const t = this.current;
    if (t.preempt === 0 && t.nonBlock === 0) return;
    const what = arg === undefined ? op : `${op}(${arg})`;
    if (t.preempt > 0) {
      throw this.violation(
        'sleep-in-atomic',
        `sleeping function called from invalid context: ${what} in task ${t} with preempt_count=${t.preempt}${heldList(t)}`,
      );
    }
    throw this.violation(
      'sleep-in-nonblock',
      `${what} may sleep in task ${t} inside a non-blockable section (non_block_count=${t.nonBlock})${heldList(t)}`,
    );
  }

  /** Builds a violation and, in an explorer run, records it as the run's failure. */
  violation(kind: ViolationKind, message: string): RuntimeViolation {
    const v = new RuntimeViolation(kind, message);
    this.fail(v);
    if (sink) emit(this.current.id, 'violation', kind, { message });
    return v;
  }

  fail(error: unknown): void {
    if (this.explore && !this.hasFailure) {
      this.hasFailure = true;
      this.failure = error;
    }
  }

  requestSwitch(): void {
    if (this.#switchPending) return;
    this.#switchPending = true;
    // A promise reaction rather than queueMicrotask(): same microtask queue, without
    // Node's per-callback async-context wrapper (measurably cheaper per switch).
    RESOLVED.then(this.#dispatch);
  }

  dispatch(): void {
    this.#switchPending = false;
    if (this.ended || this.current.state === RUNNING) return;
    if (this.hooks) this.#exploreNext(this.hooks);
    else this.#fifoNext();
  }

  #fifoNext(): void {
    const next = this.runq.shift();
    if (next) this.#switchTo(next);
    else this.#fifoStall();
  }

  /** Everything is blocked: main gets the deadlock report, the other tasks stay parked. */
  #fifoStall(): void {
    const main = this.tasks[0]!;
    if (main.state !== BLOCKED) return;
    const v = this.violation('deadlock', deadlockReport(this.tasks));
    for (const w of [...main.pending]) this.wake(w, v);
    this.#fifoNext();
  }

  #exploreNext(hooks: RunHooks): void {
    const prev = this.current;
    const n = this.runq.length;
    if (!this.hasFailure && n === 0 && this.tasks.some((t) => t.state !== DONE)) {
      this.violation('deadlock', deadlockReport(this.tasks));
    }
    const forced = this.#forced;
    this.#forced = undefined;
    const next = this.hasFailure
      ? undefined
      : (forced ??
        (n > 0
          ? this.#choose(hooks, prev, prev.state === RUNNABLE ? PREEMPTION_POINT : AFTER_BLOCK)
          : undefined));
    if (next === undefined) this.end();
    else this.#switchTo(next);
  }

  /** One scheduling step: the policy picks among the run queue, which loses the pick. */
  #choose(hooks: RunHooks, prev: TaskState, point: SchedPoint): TaskState | undefined {
    const runq = this.runq;
    if (++this.steps > hooks.maxSteps) {
      this.violation('livelock', `run exceeded maxSteps=${hooks.maxSteps} scheduling steps`);
      return undefined;
    }
    let idx = point === PREEMPTION_POINT ? runq.indexOf(prev) : 0;
    if (hooks.signature) hooks.signature.push(`${this.steps}:${runq.map((t) => t.id).join(',')}`);
    if (runq.length > 1) idx = hooks.policy.choose(runq, idx, prev, point);
    const next = runq[idx]!;
    removeAt(runq, idx);
    return next;
  }

  #switchTo(next: TaskState): void {
    const prev = this.current;
    next.state = RUNNING;
    this.current = next;
    if (sink) emit(next.id, 'sched', 'switch', { from: prev.id, to: next.id });
    else tick();
    const ready = next.ready;
    for (let w = ready.pop(); w !== undefined; w = ready.pop()) {
      if (w.error === undefined) w.resolve();
      else w.reject(w.error);
    }
  }

  finish(t: TaskState, value: unknown, failed: boolean, error: unknown): void {
    if (this.ended) return;
    if (!failed && (t.held.length > 0 || t.preempt > 0 || t.nonBlock > 0)) {
      failed = true;
      error = this.violation(
        'lock-misuse',
        `task ${t} exited with preempt_count=${t.preempt}, non_block_count=${t.nonBlock}${heldList(t)}`,
      );
    }
    t.state = DONE;
    t.result = value;
    t.failed = failed;
    t.error = error;
    for (const w of t.joiners) this.wake(w);
    t.joiners.length = 0;
    if (sink) emit(t.id, 'task', 'exit', { failed });
    if (this.current === t) this.requestSwitch();
  }

  /** Ends an explorer run: the first failure, else an unjoined task's error, else success. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.hasFailure) {
      const orphan = this.tasks.find((t) => t.failed && !t.joined);
      if (orphan) this.fail(orphan.error);
    }
    this.hooks?.onEnd(this.hasFailure ? this.failure : undefined);
  }
}

function heldList(t: TaskState): string {
  if (t.held.length === 0) return '';
  return `; locks held: ${t.held.map((h) => h.cls.name).join(', ')}`;
}

/** One line per unfinished task: what it waits for and who holds it, following the chain. */
export function deadlockReport(tasks: readonly TaskState[]): string {
  const lines = ['every task is blocked; wait chains:'];
  for (const t of tasks) {
    if (t.state === DONE) continue;
    lines.push(`  ${waitChain(t)}`);
  }
  return lines.join('\n');
}

function waitChain(start: TaskState): string {
  const seen = new Set<TaskState>();
  let t: TaskState | undefined = start;
  let out = '';
  while (t && !seen.has(t)) {
    seen.add(t);
    const w: Wait | undefined = t.pending[0];
    if (!w) return `${out}${t} (${t.state === RUNNABLE ? 'runnable' : 'running'})`;
    const holder: TaskState | undefined = w.holder?.();
    out += `${t} waits for ${w.what}`;
    if (!holder) return `${out} (nobody left to wake it)`;
    out += ` held by `;
    t = holder;
  }
  return t ? `${out}${t} (cycle)` : out;
}

/** The runtime in force: the FIFO one, or the current explorer run's. */
export let rt: Runtime = new Runtime();

/** Makes `next` the runtime in force and returns the previous one (explorer use). */
export function installRuntime(next: Runtime): Runtime {
  const prev = rt;
  rt = next;
  return prev;
}

async function join(t: TaskState): Promise<unknown> {
  const r = rt;
  const me = r.current;
  t.joined = true;
  if (t === me) throw new KernelError('EDEADLK', `join: task ${t} cannot join itself`);
  r.mightSleep('join', t.name);
  if (r.explore) await r.yield();
  while (t.state !== DONE) {
    const w = r.block(`join(${t})`, () => t, true);
    t.joiners.push(w);
    await w.promise;
  }
  if (t.failed) throw t.error;
  return t.result;
}

setJoinHook(join);
