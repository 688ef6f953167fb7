import { EXCLUSIVE, type LockClass, lockClass, lockdepAcquire, lockdepRelease } from './lockdep.js';
import { rt } from './runtime.js';
import { checkName } from './validate.js';

/**
 * A pseudo-lock that exists only for lock ordering. Mirrors struct lockdep_map with
 * lock_map_acquire() / lock_map_release().
 *
 * **Details**: acquire() records "every held lock → this map" and pushes it on the
 * held stack; locks taken until release() are ordered after it. The notifier core
 * holds one (`invalidate_range_start`) around invalidate callbacks and teaches
 * `fs_reclaim → invalidate_range_start` at registration, which is how a
 * reclaim-capable allocation under a lock that callbacks take is found.
 *
 * **Context**: never sleeps; holding a map does not make the task atomic.
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string.
 * @example
 * ```ts
 * const map = new LockdepMap('mmu_notifier_invalidate_range_start');
 * map.acquire(); try { await callbacks(); } finally { map.release(); }
 * ```
 */
export class LockdepMap {
  readonly name: string;
  readonly #cls: LockClass;

  constructor(name: string) {
    this.name = checkName('LockdepMap', name);
    this.#cls = lockClass(name);
  }

  /**
   * Records the ordering and marks the map held. Mirrors lock_map_acquire().
   * @throws RuntimeViolation `lock-order` / `reclaim-under-lock` on a cycle.
   */
  acquire(): void {
    lockdepAcquire(this.#cls, this, EXCLUSIVE, false);
  }

  /**
   * Marks the map released. Mirrors lock_map_release().
   * @throws RuntimeViolation `lock-misuse` if the current task does not hold it.
   */
  release(): void {
    if (!lockdepRelease(this)) {
      throw rt.violation(
        'lock-misuse',
        `lock_map_release(${this.name}) in task ${rt.current}: not held`,
      );
    }
  }
}
