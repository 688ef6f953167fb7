import {
  EXCLUSIVE,
  type LockClass,
  lockClass,
  lockdepAcquire,
  lockdepDowngrade,
  lockdepRelease,
  SHARED,
} from './lockdep.js';
import { rt } from './runtime.js';
import type { TaskState, Wait } from './task.js';
import { checkInt, checkName } from './validate.js';

interface Waiter {
  w: Wait;
  write: boolean;
}

/**
 * A reader-writer semaphore. Mirrors struct rw_semaphore (kernel/locking/rwsem.c).
 *
 * **Details**: fair like the kernel's: a reader queues behind a waiting writer, so a
 * stream of readers cannot starve writers. When the lock frees up, a writer at the
 * head of the queue gets it, otherwise every queued reader is woken (rwsem_mark_wake
 * wakes readers past queued writers). Ownership is handed over at release. Read holds
 * are per task: upRead() by a task that holds no read lock is misuse (the kernel's
 * `_non_owner` variants are not modelled).
 *
 * **Locking**: downRead/downWrite may sleep (might_sleep checks); trylocks never
 * sleep and are allowed in any context; mmap_lock is one of these.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const mmapLock = new RwSemaphore('mmap_lock');
 * await mmapLock.downRead(); try { walk(); } finally { mmapLock.upRead(); }
 * ```
 */
export class RwSemaphore {
  readonly name: string;
  readonly #cls: LockClass;
  /** Write owner, read owners (task → nested count) and the FIFO wait queue. */
  #writer: TaskState | undefined;
  readonly #readers = new Map<TaskState, number>();
  #readerCount = 0;
  readonly #queue: Waiter[] = [];
  readonly #holder = (): TaskState | undefined => this.#writer ?? this.#readers.keys().next().value;

  constructor(name: string) {
    this.name = checkName('RwSemaphore', name);
    this.#cls = lockClass(name);
  }

  /** Number of read holds. */
  get readers(): number {
    return this.#readerCount;
  }

  /** Whether a writer holds the semaphore. Mirrors rwsem_is_locked() for writers. */
  get writeLocked(): boolean {
    return this.#writer !== undefined;
  }

  /**
   * Acquires for reading, sleeping while a writer holds it or waits. Mirrors down_read().
   * @throws RuntimeViolation might_sleep violations, `lock-misuse` if the task already
   * holds it for writing, `lock-order` on a lockdep cycle (including read recursion).
   */
  downRead(): Promise<void> {
    return this.#down(this.#cls, false);
  }

  /** down_read_nested(): read acquisition with lockdep subclass `subclass` (0..7). */
  downReadNested(subclass: number): Promise<void> {
    checkInt('RwSemaphore.downReadNested', 'subclass', subclass, 0, 7);
    return this.#down(lockClass(this.#cls.name, subclass), false);
  }

  /**
   * Acquires for writing, sleeping until no reader or writer holds it. Mirrors down_write().
   * @throws RuntimeViolation as {@link RwSemaphore.downRead}.
   */
  downWrite(): Promise<void> {
    return this.#down(this.#cls, true);
  }

  /** down_write_nested(): write acquisition with lockdep subclass `subclass` (0..7). */
  downWriteNested(subclass: number): Promise<void> {
    checkInt('RwSemaphore.downWriteNested', 'subclass', subclass, 0, 7);
    return this.#down(lockClass(this.#cls.name, subclass), true);
  }

  async #down(cls: LockClass, write: boolean): Promise<void> {
    rt.mightSleep(write ? 'down_write' : 'down_read', this.name);
    if (rt.explore) await rt.yield();
    const me = rt.current;
    lockdepAcquire(cls, this, write ? EXCLUSIVE : SHARED, false);
    if (write ? this.#writeFree() : this.#readFree()) {
      this.#grant(me, write);
      return;
    }
    const w = rt.block(`rwsem ${this.name} (${write ? 'write' : 'read'})`, this.#holder);
    this.#queue.push({ w, write });
    try {
      await w.promise;
    } catch (e) {
      lockdepRelease(this);
      throw e;
    }
  }

  /** down_read_trylock(): read hold if no writer holds or waits. @returns true if acquired. */
  downReadTrylock(): boolean {
    if (!this.#readFree()) return false;
    lockdepAcquire(this.#cls, this, SHARED, true);
    this.#grant(rt.current, false);
    return true;
  }

  /** down_write_trylock(): write hold if nobody holds or waits. @returns true if acquired. */
  downWriteTrylock(): boolean {
    if (!this.#writeFree()) return false;
    lockdepAcquire(this.#cls, this, EXCLUSIVE, true);
    this.#grant(rt.current, true);
    return true;
  }

  /**
   * Releases a read hold of the current task. Mirrors up_read().
   * @throws RuntimeViolation `lock-misuse` if the current task holds no read lock.
   */
  upRead(): void {
    const me = rt.current;
    const n = this.#readers.get(me);
    if (n === undefined) {
      throw rt.violation(
        'lock-misuse',
        `up_read(${this.name}) in task ${me}: no read lock held by this task`,
      );
    }
    if (n === 1) this.#readers.delete(me);
    else this.#readers.set(me, n - 1);
    this.#readerCount--;
    lockdepRelease(this);
    if (this.#readerCount === 0) this.#wakeQueue();
  }

  /**
   * Releases the write hold. Mirrors up_write().
   * @throws RuntimeViolation `lock-misuse` if the current task is not the writer.
   */
  upWrite(): void {
    this.#checkWriter('up_write');
    this.#writer = undefined;
    lockdepRelease(this);
    this.#wakeQueue();
  }

  /**
   * Turns the current task's write hold into a read hold without letting a writer in,
   * and wakes queued readers. Mirrors downgrade_write().
   * @throws RuntimeViolation `lock-misuse` if the current task is not the writer.
   */
  downgradeWrite(): void {
    const me = this.#checkWriter('downgrade_write');
    this.#writer = undefined;
    this.#grant(me, false);
    lockdepDowngrade(this);
    if (this.#queue[0] && !this.#queue[0].write) this.#wakeReaders();
  }

  /**
   * Asserts the current task holds it for reading or writing. Mirrors lockdep_assert_held().
   * @throws RuntimeViolation `assertion` otherwise.
   */
  assertHeld(): void {
    const me = rt.current;
    if (this.#writer !== me && !this.#readers.has(me)) {
      throw rt.violation('assertion', `lockdep_assert_held(${this.name}) failed in task ${me}`);
    }
  }

  /**
   * Asserts the current task holds it for writing. Mirrors lockdep_assert_held_write().
   * @throws RuntimeViolation `assertion` otherwise.
   */
  assertWriteLocked(): void {
    if (this.#writer !== rt.current) {
      throw rt.violation(
        'assertion',
        `lockdep_assert_held_write(${this.name}) failed in task ${rt.current}`,
      );
    }
  }

  #readFree(): boolean {
    return this.#writer === undefined && this.#queue.length === 0;
  }

  #writeFree(): boolean {
    return this.#writer === undefined && this.#readerCount === 0 && this.#queue.length === 0;
  }

  #grant(t: TaskState, write: boolean): void {
    if (write) {
      this.#writer = t;
      return;
    }
    this.#readers.set(t, (this.#readers.get(t) ?? 0) + 1);
    this.#readerCount++;
  }

  #checkWriter(op: string): TaskState {
    const me = rt.current;
    if (this.#writer !== me) {
      const state = this.#writer ? `write-held by task ${this.#writer}` : 'not write-locked';
      throw rt.violation('lock-misuse', `${op}(${this.name}) in task ${me}: semaphore is ${state}`);
    }
    return me;
  }

  /** Called when the semaphore is free: a head writer gets it, else all queued readers. */
  #wakeQueue(): void {
    while (this.#queue[0]?.w.ready) this.#queue.shift();
    const head = this.#queue[0];
    if (!head) return;
    if (head.write) {
      this.#queue.shift();
      this.#grant(head.w.task, true);
      rt.wake(head.w);
      return;
    }
    this.#wakeReaders();
  }

  #wakeReaders(): void {
    for (let i = 0; i < this.#queue.length; ) {
      const q = this.#queue[i]!;
      if (q.write) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      if (q.w.ready) continue;
      this.#grant(q.w.task, false);
      rt.wake(q.w);
    }
  }
}
