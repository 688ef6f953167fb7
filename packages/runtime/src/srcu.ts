import {
  findHeld,
  type LockClass,
  lockClass,
  lockdepAcquire,
  lockdepRelease,
  lockdepSync,
  RECURSIVE_READ,
} from './lockdep.js';
import { rt } from './runtime.js';
import type { Wait } from './task.js';
import { checkFunction, checkInt, checkName } from './validate.js';

/**
 * Sleepable read-copy-update. Mirrors struct srcu_struct (kernel/rcu/srcutree.c).
 *
 * **Details**: each reader is counted in the grace period that was current when it
 * called readLock(); synchronize() starts a new period and sleeps until every reader
 * of the periods before it has called readUnlock(). Readers that start after
 * synchronize() began are not waited for. The index returned by readLock() is an
 * opaque token to pass back to readUnlock() (the kernel's is 0 or 1).
 * callSrcu() callbacks run after a grace period in a kernel thread `srcu:<name>`
 * with preemption disabled (they must not sleep); barrier() waits for every callback
 * queued before it.
 *
 * **Locking / lockdep**: read sections may sleep. synchronize() orders every lock the
 * caller holds before this SRCU (lock_sync), so "mutex M held around synchronize()"
 * plus "M taken inside a read section" is reported as a `lock-order` cycle; calling
 * synchronize() inside one's own read section is `lock-misuse` (self-deadlock).
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const idx = srcu.readLock(); try { use(list); } finally { srcu.readUnlock(idx); }
 * ```
 */
export class Srcu {
  readonly name: string;
  readonly #cls: LockClass;
  /** Current grace period; readers are counted per period in #active. */
  #period = 0;
  readonly #active = new Map<number, number>();
  #syncWaiters: Wait[] = [];
  /** call_srcu queue, the count of callbacks ever queued and ever invoked. */
  #pending: Array<() => void> = [];
  #queued = 0;
  #invoked = 0;
  #workerRunning = false;
  #barrierWaiters: Wait[] = [];

  constructor(name: string) {
    this.name = checkName('Srcu', name);
    this.#cls = lockClass(`srcu:${name}`);
  }

  /** Enters a read section; returns the token for readUnlock(). Mirrors srcu_read_lock(). */
  readLock(): number {
    const p = this.#period;
    this.#active.set(p, (this.#active.get(p) ?? 0) + 1);
    lockdepAcquire(this.#cls, this, RECURSIVE_READ, false);
    return p;
  }

  /**
   * Leaves a read section. Mirrors srcu_read_unlock().
   * @throws KernelError EINVAL if `idx` is not an integer; RuntimeViolation `lock-misuse`
   * if no read section with that token is open.
   */
  readUnlock(idx: number): void {
    checkInt('Srcu.readUnlock', 'idx', idx, 0, Number.MAX_SAFE_INTEGER);
    const n = this.#active.get(idx);
    if (n === undefined) {
      throw rt.violation(
        'lock-misuse',
        `srcu_read_unlock(${this.name}, ${idx}) in task ${rt.current}: no read section open with this index`,
      );
    }
    if (n === 1) this.#active.delete(idx);
    else this.#active.set(idx, n - 1);
    lockdepRelease(this);
    if (n === 1 && this.#syncWaiters.length > 0) {
      const ws = this.#syncWaiters;
      this.#syncWaiters = [];
      for (const w of ws) rt.wake(w);
    }
  }

  /**
   * Waits for every read section that started before this call. Mirrors synchronize_srcu().
   * @throws RuntimeViolation on might_sleep violations, `lock-misuse` inside a read
   * section of this SRCU, `lock-order` on a lockdep cycle.
   */
  async synchronize(): Promise<void> {
    rt.mightSleep('synchronize_srcu', this.name);
    const me = rt.current;
    if (findHeld(me, this)) {
      throw rt.violation(
        'lock-misuse',
        `synchronize_srcu(${this.name}) in task ${me} inside its own read-side critical section`,
      );
    }
    lockdepSync(this.#cls);
    if (rt.explore) await rt.yield();
    const target = this.#period++;
    while (this.#hasReadersUpTo(target)) {
      const w = rt.block(`synchronize_srcu(${this.name})`, undefined, true);
      this.#syncWaiters.push(w);
      await w.promise;
    }
  }

  /**
   * Runs `fn` after a grace period, in atomic context. Mirrors call_srcu().
   * **Context**: never sleeps; callable from any context.
   * @throws KernelError EINVAL if `fn` is not a function.
   */
  callSrcu(fn: () => void): void {
    checkFunction('Srcu.callSrcu', 'fn', fn);
    this.#pending.push(fn);
    this.#queued++;
    if (!this.#workerRunning) {
      this.#workerRunning = true;
      rt.spawn(`srcu:${this.name}`, () => this.#work());
    }
  }

  /**
   * Waits until every callback queued by callSrcu() before this call has run.
   * Mirrors srcu_barrier().
   * @throws RuntimeViolation on might_sleep violations.
   */
  async barrier(): Promise<void> {
    rt.mightSleep('srcu_barrier', this.name);
    if (rt.explore) await rt.yield();
    const target = this.#queued;
    while (this.#invoked < target) {
      const w = rt.block(`srcu_barrier(${this.name})`, undefined, true);
      this.#barrierWaiters.push(w);
      await w.promise;
    }
  }

  #hasReadersUpTo(period: number): boolean {
    for (const p of this.#active.keys()) if (p <= period) return true;
    return false;
  }

  /** The callback kthread: one grace period per batch, callbacks with preemption off. */
  async #work(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      await this.synchronize();
      const me = rt.current;
      for (const fn of batch) {
        me.preempt++;
        try {
          fn();
        } finally {
          me.preempt--;
          this.#invoked++;
        }
      }
      const ws = this.#barrierWaiters;
      this.#barrierWaiters = [];
      for (const w of ws) rt.wake(w);
    }
    this.#workerRunning = false;
  }
}
