import { rt } from './runtime.js';
import { checkFunction, checkInt, checkName } from './validate.js';

/**
 * A reference count that calls `release` when it drops to zero, with the kernel's
 * refcount_t checks. Mirrors struct kref (include/linux/kref.h).
 *
 * **Details**: once the count reached zero the object is freed: any later get(),
 * put() or assertLive() is a `use-after-free` violation, as refcount_t warns
 * "addition on 0; use-after-free" and "underflow; use-after-free".
 *
 * **Context**: never sleeps; `release` runs in the caller's context (a release that
 * sleeps must only be triggered from sleepable context).
 *
 * @throws KernelError EINVAL if `name` is empty, `release` not a function, or
 * `initial` not a positive integer.
 * @example
 * ```ts
 * const ref = new Kref('mirror', () => free(mirror)); // count 1
 * ref.get(); ref.put(); ref.put(); // release() runs on the last put
 * ```
 */
export class Kref {
  readonly name: string;
  readonly #release: () => void;
  #count: number;

  constructor(name: string, release: () => void, initial = 1) {
    this.name = checkName('Kref', name);
    checkFunction('Kref', 'release', release);
    this.#count = checkInt('Kref', 'initial', initial, 1, 0xffffffff);
    this.#release = release;
  }

  /**
   * Takes a reference. Mirrors kref_get().
   * @throws RuntimeViolation `use-after-free` if the count already dropped to zero.
   */
  get(): void {
    if (this.#count === 0) throw this.#uaf('kref_get', 'addition on 0');
    this.#count++;
  }

  /** Takes a reference unless the count is zero. Mirrors kref_get_unless_zero(). */
  getUnlessZero(): boolean {
    if (this.#count === 0) return false;
    this.#count++;
    return true;
  }

  /**
   * Drops a reference, calling `release` on the last one. Mirrors kref_put().
   * @returns true if this put released the object.
   * @throws RuntimeViolation `use-after-free` if the count already dropped to zero.
   */
  put(): boolean {
    if (this.#count === 0) throw this.#uaf('kref_put', 'underflow');
    if (--this.#count > 0) return false;
    this.#release();
    return true;
  }

  /** The current count. Mirrors kref_read(). */
  read(): number {
    return this.#count;
  }

  /**
   * Asserts the object is still live (count > 0).
   * @throws RuntimeViolation `use-after-free` otherwise.
   */
  assertLive(): void {
    if (this.#count === 0) throw this.#uaf('access', 'object already released');
  }

  #uaf(op: string, what: string) {
    return rt.violation(
      'use-after-free',
      `${op}(${this.name}) in task ${rt.current}: refcount_t: ${what}; use-after-free`,
    );
  }
}
