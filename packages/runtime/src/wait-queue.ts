import { rt } from './runtime.js';
import type { Wait } from './task.js';
import { checkFunction, checkName } from './validate.js';

/**
 * A wait queue for condition waits. Mirrors wait_queue_head_t with wait_event() and
 * wake_up() (include/linux/wait.h).
 *
 * **Details**: waitEvent() checks its condition before sleeping and again after every
 * wake-up, so a wake-up that happens before the sleep is never lost, the property
 * that a bare "check, then sleep" lacks. Waiters are non-exclusive, so wakeUp() wakes
 * them all, as the kernel's wake_up() does for wait_event() waiters.
 *
 * **Locking**: waitEvent() may sleep; wakeUp()/wakeUpAll() never sleep and may be
 * called from any context.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const wq = new WaitQueue('mmu_notifier wq');
 * await wq.waitEvent(() => seq !== oldSeq); // sleeper
 * seq++; wq.wakeUpAll();                    // waker
 * ```
 */
export class WaitQueue {
  readonly name: string;
  /** Sleeping waiters; emptied by every wake-up (each re-queues if its condition is false). */
  #waiters: Wait[] = [];

  constructor(name: string) {
    this.name = checkName('WaitQueue', name);
  }

  /**
   * Sleeps until `cond()` returns true; returns at once if it already does. Mirrors
   * wait_event().
   * @throws KernelError EINVAL if `cond` is not a function; RuntimeViolation on
   * might_sleep violations; whatever `cond` throws.
   */
  async waitEvent(cond: () => boolean): Promise<void> {
    checkFunction('WaitQueue.waitEvent', 'cond', cond);
    rt.mightSleep('wait_event', this.name);
    if (rt.explore) await rt.yield();
    while (!cond()) {
      const w = rt.block(`wait_event(${this.name})`, undefined, true);
      this.#waiters.push(w);
      await w.promise;
    }
  }

  /** Wakes every waiter to re-check its condition. Mirrors wake_up(). */
  wakeUp(): void {
    this.wakeUpAll();
  }

  /** Wakes every waiter to re-check its condition. Mirrors wake_up_all(). */
  wakeUpAll(): void {
    if (this.#waiters.length === 0) return;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) rt.wake(w);
  }

  /** Whether any task sleeps on the queue. Mirrors wq_has_sleeper(). */
  get hasSleeper(): boolean {
    return this.#waiters.some((w) => !w.ready);
  }
}
