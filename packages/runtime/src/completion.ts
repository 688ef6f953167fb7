import { rt } from './runtime.js';
import type { Wait } from './task.js';
import { checkName } from './validate.js';

const UINT_MAX = 0xffffffff;

/**
 * A one-shot (or counted) event. Mirrors struct completion (kernel/sched/completion.c).
 *
 * **Details**: `done` counts completions; each waiter consumes one. completeAll() sets
 * it to UINT_MAX, which no waiter consumes, until reinit().
 *
 * **Locking**: waitForCompletion() may sleep; complete(), completeAll(),
 * tryWaitForCompletion() and reinit() never sleep and may be called from any context.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const ready = new Completion('ready');
 * spawn('producer', () => ready.complete());
 * await ready.waitForCompletion();
 * ```
 */
export class Completion {
  readonly name: string;
  /** x->done: number of unconsumed completions, UINT_MAX after completeAll(). */
  #done = 0;
  readonly #waiters: Wait[] = [];

  constructor(name: string) {
    this.name = checkName('Completion', name);
  }

  /** Whether a completion is pending (waiting would not sleep). Mirrors completion_done(). */
  get done(): boolean {
    return this.#done > 0;
  }

  /** Signals one waiter (or the next one to come). Mirrors complete(). */
  complete(): void {
    if (this.#done !== UINT_MAX) this.#done++;
    this.#wake(1);
  }

  /** Signals every current and future waiter until reinit(). Mirrors complete_all(). */
  completeAll(): void {
    this.#done = UINT_MAX;
    this.#wake(Number.POSITIVE_INFINITY);
  }

  /**
   * Sleeps until a completion is available and consumes it. Mirrors wait_for_completion().
   * @throws RuntimeViolation on might_sleep violations.
   */
  async waitForCompletion(): Promise<void> {
    rt.mightSleep('wait_for_completion', this.name);
    if (rt.explore) await rt.yield();
    while (this.#done === 0) {
      const w = rt.block(`completion ${this.name}`, undefined, true);
      this.#waiters.push(w);
      await w.promise;
    }
    if (this.#done !== UINT_MAX) this.#done--;
  }

  /** Consumes a completion if one is available, without sleeping. Mirrors try_wait_for_completion(). */
  tryWaitForCompletion(): boolean {
    if (this.#done === 0) return false;
    if (this.#done !== UINT_MAX) this.#done--;
    return true;
  }

  /** Resets to "not done" for reuse. Mirrors reinit_completion(). */
  reinit(): void {
    this.#done = 0;
  }

  #wake(n: number): void {
    while (n > 0 && this.#waiters.length > 0) {
      const w = this.#waiters.shift()!;
      if (w.ready) continue;
      rt.wake(w);
      n--;
    }
  }
}
