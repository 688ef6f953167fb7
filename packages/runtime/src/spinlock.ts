import { EXCLUSIVE, type LockClass, lockClass, lockdepAcquire, lockdepRelease } from './lockdep.js';
import { rt } from './runtime.js';
import type { HeldLock, TaskState } from './task.js';
import { checkInt, checkName } from './validate.js';

/**
 * A spinning lock: holding it makes the task atomic (preempt_count > 0), so nothing
 * may sleep until unlock(). Mirrors spinlock_t (include/linux/spinlock.h).
 *
 * **Details**: since a holder can never sleep and code between scheduling points runs
 * without preemption, another task can only find a spinlock held if its holder broke
 * the rules (slept or exited holding it); lock() then reports the deadlock the real
 * CPU would spin in instead of spinning. Instances with the same name share a lockdep
 * class.
 *
 * **Locking**: lock/unlock/trylock never sleep and may be used in any context,
 * including non-blockable invalidation callbacks.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const ptl = new SpinLock('ptl');
 * ptl.lock(); try { pte = next; } finally { ptl.unlock(); }
 * ```
 */
export class SpinLock {
  readonly name: string;
  readonly #cls: LockClass;
  /** The holding task; guarded by nothing: only the current task runs. */
  #owner: TaskState | undefined;
  /** Held-stack record: a spinlock is held by at most one task, once. */
  readonly #entry: HeldLock;

  constructor(name: string) {
    this.name = checkName('SpinLock', name);
    this.#cls = lockClass(name);
    this.#entry = { cls: this.#cls, instance: this, read: EXCLUSIVE };
  }

  /** Whether any task holds the lock. Mirrors spin_is_locked(). */
  get locked(): boolean {
    return this.#owner !== undefined;
  }

  /**
   * Acquires the lock and disables preemption. Mirrors spin_lock().
   * @throws RuntimeViolation `lock-misuse` if the current task already holds it,
   * `deadlock` if another task holds it (it can never release it), `lock-order` on a
   * lockdep cycle.
   */
  lock(): void {
    this.#lock(this.#cls);
  }

  /**
   * spin_lock_nested(): acquires with lockdep subclass `subclass` (1..7) so that two
   * locks of the same class may nest in a fixed order.
   * @throws KernelError EINVAL on a bad subclass; violations as {@link SpinLock.lock}.
   */
  lockNested(subclass: number): void {
    checkInt('SpinLock.lockNested', 'subclass', subclass, 0, 7);
    this.#lock(lockClass(this.#cls.name, subclass));
  }

  #lock(cls: LockClass): void {
    const me = rt.current;
    const owner = this.#owner;
    if (owner !== undefined && owner !== me) {
      throw rt.violation(
        'deadlock',
        `spin_lock(${this.name}) in task ${me}: held by task ${owner}, which cannot run to release it`,
      );
    }
    lockdepAcquire(cls, this, EXCLUSIVE, false, this.#entry);
    this.#owner = me;
    me.preempt++;
  }

  /**
   * Tries to acquire without spinning. Mirrors spin_trylock().
   * @returns true if acquired (preemption is then disabled), false if held.
   */
  trylock(): boolean {
    if (this.#owner !== undefined) return false;
    const me = rt.current;
    lockdepAcquire(this.#cls, this, EXCLUSIVE, true, this.#entry);
    this.#owner = me;
    me.preempt++;
    return true;
  }

  /**
   * Releases the lock and re-enables preemption. Mirrors spin_unlock().
   * @throws RuntimeViolation `lock-misuse` if it is not held, or held by another task.
   */
  unlock(): void {
    const me = rt.current;
    if (this.#owner === undefined) {
      throw rt.violation(
        'lock-misuse',
        `spin_unlock(${this.name}) in task ${me}: lock is not held`,
      );
    }
    if (this.#owner !== me) {
      throw rt.violation(
        'lock-misuse',
        `spin_unlock(${this.name}) in task ${me}: lock is held by task ${this.#owner}`,
      );
    }
    lockdepRelease(this);
    this.#owner = undefined;
    me.preempt--;
  }

  /**
   * Asserts that the current task holds the lock. Mirrors lockdep_assert_held().
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
