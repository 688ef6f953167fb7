import { rt } from './runtime.js';
import type { TaskState, Wait } from './task.js';
import { checkInt, checkName } from './validate.js';

/**
 * A sequence counter for lockless readers. Mirrors seqcount_t (include/linux/seqlock.h).
 *
 * **Details**: the counter is odd while a write is in progress. Readers take a
 * snapshot with readBegin() and retry when readRetry() says a writer ran meanwhile.
 * writeBegin() disables preemption until writeEnd() (as seqcount_mutex_t and friends
 * do), so a writer that sleeps inside is a `sleep-in-atomic` violation.
 *
 * **Locking**: writers must be serialized by the caller (a lock); readBegin() waits
 * (spins, in the kernel) while a write is in progress; the other methods never sleep.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * let seq; do { seq = await sc.readBegin(); v = shared; } while (sc.readRetry(seq));
 * ```
 */
export class SeqCount {
  readonly name: string;
  /** sequence: odd while a writer is between writeBegin and writeEnd. */
  #seq = 0;
  #writer: TaskState | undefined;
  #readers: Wait[] = [];

  constructor(name: string) {
    this.name = checkName('SeqCount', name);
  }

  /**
   * Starts a write section (counter becomes odd). Mirrors write_seqcount_begin().
   * @throws RuntimeViolation `lock-misuse` if a write section is already open.
   */
  writeBegin(): void {
    const me = rt.current;
    if (this.#seq & 1) {
      throw rt.violation(
        'lock-misuse',
        `write_seqcount_begin(${this.name}) in task ${me}: write already in progress by task ${this.#writer}; writers must be serialized`,
      );
    }
    this.#seq++;
    this.#writer = me;
    me.preempt++;
  }

  /**
   * Ends the write section (counter becomes even) and lets waiting readers go.
   * Mirrors write_seqcount_end().
   * @throws RuntimeViolation `lock-misuse` if the current task did not begin a write.
   */
  writeEnd(): void {
    const me = rt.current;
    if (!(this.#seq & 1) || this.#writer !== me) {
      throw rt.violation(
        'lock-misuse',
        `write_seqcount_end(${this.name}) in task ${me}: no write section open by this task`,
      );
    }
    this.#seq++;
    this.#writer = undefined;
    me.preempt--;
    const rs = this.#readers;
    this.#readers = [];
    for (const w of rs) rt.wake(w);
  }

  /**
   * Snapshot for a read section, waiting while a write is in progress. Mirrors
   * read_seqcount_begin(). A scheduling point in explorer runs.
   */
  async readBegin(): Promise<number> {
    if (rt.explore && rt.current.preempt === 0) await rt.yield();
    while (this.#seq & 1) {
      const w = rt.block(`seqcount ${this.name}`, () => this.#writer, true);
      this.#readers.push(w);
      await w.promise;
    }
    return this.#seq;
  }

  /**
   * Snapshot without waiting: an odd counter is rounded down so that readRetry() fails.
   * Mirrors raw_seqcount_begin().
   */
  rawReadBegin(): number {
    return this.#seq & ~1;
  }

  /**
   * Whether a writer ran since `seq` was taken. Mirrors read_seqcount_retry().
   * @throws KernelError EINVAL if `seq` is not a non-negative integer.
   */
  readRetry(seq: number): boolean {
    checkInt('SeqCount.readRetry', 'seq', seq, 0, Number.MAX_SAFE_INTEGER);
    return this.#seq !== seq;
  }
}
