import { EXCLUSIVE, type LockClass, lockClass, lockdepAcquire, lockdepRelease } from './lockdep.js';
import { RESOLVED, rt } from './runtime.js';
import type { HeldLock, TaskState, Wait } from './task.js';
import { emit, sink } from './trace-sink.js';
import { checkInt, checkName } from './validate.js';

/**
 * A sleeping lock with a single owner. Mirrors struct mutex (kernel/locking/mutex.c).
 *
 * **Details**: waiters queue in FIFO order and unlock hands the lock to the first one
 * (the kernel's handoff mode; the model does not let a newcomer steal it). Instances
 * with the same name share a lockdep class.
 *
 * **Locking**: lock() may sleep: not with a spinlock held, not in a non-blockable
 * section. trylock() never sleeps and is allowed in atomic and non-blockable context
 * (the kernel forbids mutex_trylock only in interrupt context, which the model does
 * not have); non-blockable invalidation callbacks use it. unlock() only by the owner.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const m = new Mutex('dmirror->mutex');
 * await m.lock(); try { update(); } finally { m.unlock(); }
 * ```
 */
export class Mutex {
  readonly name: string;
  readonly #cls: LockClass;
  /** The owner task; waiters are the tasks parked in lock(), oldest first. */
  #owner: TaskState | undefined;
  readonly #waiters: Wait[] = [];
  readonly #holder = (): TaskState | undefined => this.#owner;
  /** The held-stack entry for this mutex: one owner, no recursion, so one entry suffices. */
  readonly #entry: HeldLock;

  constructor(name: string) {
    this.name = checkName('Mutex', name);
    this.#cls = lockClass(name);
    this.#entry = { cls: this.#cls, instance: this, read: EXCLUSIVE };
  }

  /** Whether any task owns the mutex. Mirrors mutex_is_locked(). */
  get locked(): boolean {
    return this.#owner !== undefined;
  }

  /**
   * Acquires the mutex, sleeping while another task owns it. Mirrors mutex_lock().
   * @throws RuntimeViolation `sleep-in-atomic` / `sleep-in-nonblock` (might_sleep),
   * `lock-misuse` if the current task already owns it, `lock-order` /
   * `reclaim-under-lock` on a lockdep cycle.
   */
  lock(): Promise<void> {
    const me = rt.current;
    if (
      this.#owner === undefined &&
      !rt.explore &&
      me.preempt === 0 &&
      me.nonBlock === 0 &&
      me.held.length === 0
    ) {
      // Free, sleepable, nothing held: no lockdep dependency to record, no recursion.
      const h = this.#entry;
      h.cls = this.#cls;
      me.held.push(h);
      if (sink) emit(me.id, 'lock', this.name, { op: 'acquire', read: EXCLUSIVE });
      this.#owner = me;
      return RESOLVED;
    }
    return this.#lock(this.#cls);
  }

  /**
   * mutex_lock_nested(): acquires with lockdep subclass `subclass` (1..7).
   * @throws KernelError EINVAL on a bad subclass; violations as {@link Mutex.lock}.
   */
  lockNested(subclass: number): Promise<void> {
    checkInt('Mutex.lockNested', 'subclass', subclass, 0, 7);
    return this.#lock(lockClass(this.#cls.name, subclass));
  }

  /**
   * Not an async function on purpose: an uncontended lock (and, in an explorer run, a
   * scheduling point that keeps the current task) costs no extra promise or microtask.
   */
  #lock(cls: LockClass): Promise<void> {
    try {
      rt.mightSleep('mutex_lock', this.name);
    } catch (e) {
      return Promise.reject(e);
    }
    if (rt.explore) {
      const p = rt.yield();
      if (p !== RESOLVED) return p.then(() => this.#acquire(cls));
    }
    return this.#acquire(cls);
  }

  #acquire(cls: LockClass): Promise<void> {
    try {
      lockdepAcquire(cls, this, EXCLUSIVE, false);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#owner === undefined) {
      this.#owner = rt.current;
      return RESOLVED;
    }
    const w = rt.block(`mutex ${this.name}`, this.#holder);
    this.#waiters.push(w);
    return w.promise.then(undefined, (e: unknown) => {
      lockdepRelease(this);
      throw e;
    });
  }

  /**
   * Acquires the mutex if it is free, without sleeping. Mirrors mutex_trylock().
   * @returns true if acquired.
   */
  trylock(): boolean {
    if (this.#owner !== undefined) return false;
    lockdepAcquire(this.#cls, this, EXCLUSIVE, true);
    this.#owner = rt.current;
    return true;
  }

  /**
   * Releases the mutex, handing it to the oldest waiter. Mirrors mutex_unlock().
   * @throws RuntimeViolation `lock-misuse` if unlocked, or owned by another task.
   */
  unlock(): void {
    const me = rt.current;
    if (this.#owner !== me) this.#badUnlock(me);
    const held = me.held;
    if (sink === undefined && held.length > 0 && held[held.length - 1]!.instance === this)
      held.pop();
    else lockdepRelease(this);
    this.#owner = undefined;
    if (this.#waiters.length > 0) this.#handOff();
  }

  #badUnlock(me: TaskState): never {
    if (this.#owner === undefined) {
      throw rt.violation(
        'lock-misuse',
        `mutex_unlock(${this.name}) in task ${me}: mutex is not locked`,
      );
    }
    throw rt.violation(
      'lock-misuse',
      `mutex_unlock(${this.name}) in task ${me}: mutex is owned by task ${this.#owner}`,
    );
  }

  #handOff(): void {
    let w = this.#waiters.shift();
    while (w?.ready) w = this.#waiters.shift();
    if (w) {
      this.#owner = w.task;
      rt.wake(w);
    }
  }

  /**
   * Asserts that the current task owns the mutex. Mirrors lockdep_assert_held().
   * @throws RuntimeViolation `assertion` otherwise.
   */
  assertHeld(): void {
    if (this.#owner !== rt.current) {
      throw rt.violation(
        'assertion',
        `lockdep_assert_held(${this.name}) failed in task ${rt.current}`,
      );
    }
  }
}
