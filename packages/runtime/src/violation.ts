/**
 * Rule breaks the runtime detects: the model's lockdep splats, might_sleep warnings,
 * refcount warnings and deadlock reports.
 */

/**
 * What rule a {@link RuntimeViolation} reports.
 *
 * - `sleep-in-atomic`: a sleeping operation with a spinlock held or preemption off
 *   ("BUG: sleeping function called from invalid context").
 * - `sleep-in-nonblock`: a sleeping operation between nonBlockStart/End.
 * - `lock-order`: a cycle in the lock-order graph (ABBA), or recursive locking of a class.
 * - `reclaim-under-lock`: a lock-order cycle that goes through `fs_reclaim`.
 * - `lock-misuse`: unlock of an unheld lock, unlock by a non-owner, recursive mutex, ...
 * - `deadlock`: every task is blocked (with the wait chains).
 * - `stray-await`: a task awaited a promise that is not a runtime primitive (explorer).
 * - `use-after-free`: a reference count used after it dropped to zero.
 * - `assertion`: a failed `assertHeld()` or similar assertion.
 * - `livelock`: an explorer run exceeded `maxSteps` scheduling steps (addition).
 * - `nondeterminism`: a replayed schedule saw different runnable sets (addition).
 */
export type ViolationKind =
  | 'sleep-in-atomic'
  | 'sleep-in-nonblock'
  | 'lock-order'
  | 'reclaim-under-lock'
  | 'lock-misuse'
  | 'deadlock'
  | 'stray-await'
  | 'use-after-free'
  | 'assertion'
  | 'livelock'
  | 'nondeterminism';

/**
 * A detected rule break. Thrown at the point of detection (the task fails); inside an
 * explorer run it also fails the schedule, even if the task catches it.
 */
export class RuntimeViolation extends Error {
  readonly kind: ViolationKind;
  constructor(kind: ViolationKind, message: string) {
    super(`[${kind}] ${message}`);
    this.name = 'RuntimeViolation';
    this.kind = kind;
  }
}
